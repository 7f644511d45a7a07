// @generated automatically by Diesel CLI.

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        email -> Nullable<Text>,
        password_fingerprint -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    access_tokens (jti) {
        jti -> Text,
        grant_id -> Nullable<Text>,
        client_id -> Text,
        user_id -> Nullable<Text>,
        scope -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        prefix -> Text,
        key_hash -> Text,
        user_id -> Text,
        name -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        kind -> Text,
        user_id -> Nullable<Text>,
        client_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        redirect_uri_in_request -> Bool,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        grant_id -> Nullable<Text>,
        nonce -> Nullable<Text>,
        auth_time -> Nullable<Timestamp>,
        session_id -> Nullable<Text>,
        second_factor -> Bool,
    }
}

diesel::table! {
    client_usage (client_id) {
        client_id -> Text,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        secret_hash -> Nullable<Text>,
        name -> Text,
        redirect_uris -> Text,
        scopes -> Text,
        grant_types -> Text,
        is_public -> Bool,
        is_first_party -> Bool,
        require_pkce -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        is_resource_server -> Bool,
        id_token_signed_response_alg -> Text,
        post_logout_redirect_uris -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        require_mfa -> Bool,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        client_id -> Text,
        scope -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        auth_time -> Nullable<Timestamp>,
        session_id -> Nullable<Text>,
        second_factor -> Bool,
    }
}

diesel::table! {
    login_throttles (username) {
        username -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        parent_hash -> Nullable<Text>,
        scope -> Text,
        issued_at -> Timestamp,
        idle_expires_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        second_factor_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Text,
        private_key -> Text,
        created_at -> Timestamp,
        retire_after -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        user_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        status -> Text,
        priority -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    token_revocations (seq) {
        seq -> BigInt,
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Text,
        secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(access_tokens -> grants (grant_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(authorization_codes -> clients (client_id));
diesel::joinable!(authorization_codes -> grants (grant_id));
diesel::joinable!(authorization_codes -> users (user_id));
diesel::joinable!(client_usage -> clients (client_id));
diesel::joinable!(consents -> clients (client_id));
diesel::joinable!(consents -> users (user_id));
diesel::joinable!(grants -> clients (client_id));
diesel::joinable!(grants -> users (user_id));
diesel::joinable!(refresh_tokens -> grants (grant_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(tasks -> users (user_id));
diesel::joinable!(totp_factors -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_tokens,
    account_tokens,
    api_keys,
    audit_events,
    authorization_codes,
    client_usage,
    clients,
    consents,
    grants,
    login_throttles,
    recovery_codes,
    refresh_tokens,
    sessions,
    signing_keys,
    tasks,
    token_revocations,
    totp_factors,
    users,
);
