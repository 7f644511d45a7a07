ALTER TABLE grants DROP COLUMN session_id;
ALTER TABLE grants DROP COLUMN auth_time;
ALTER TABLE authorization_codes DROP COLUMN session_id;
ALTER TABLE authorization_codes DROP COLUMN auth_time;
ALTER TABLE authorization_codes DROP COLUMN nonce;
ALTER TABLE clients DROP COLUMN id_token_signed_response_alg;
