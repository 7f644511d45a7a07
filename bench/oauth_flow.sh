# The browser side of the authorization-code flow with curl, for the benchmarks and CI
# (sourced, not run). Cookies live in the jar file given to each function.

# sign_in BASE_URL JAR USERNAME PASSWORD
sign_in() {
  local csrf
  csrf=$(curl -s -c "$2" -b "$2" "$1/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
  curl -s -o /dev/null -c "$2" -b "$2" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "username=$3" --data-urlencode "password=$4" "$1/login"
}

# allow_consent BASE_URL JAR AUTHORIZE_URL: opens the consent page and clicks Allow.
allow_consent() {
  local page csrf request
  page=$(curl -s -b "$2" "$3")
  csrf=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page")
  request=$(sed -n 's/.*name="request" value="\([^"]*\)".*/\1/p' <<<"$page" | sed 's/&#38;/\&/g; s/&amp;/\&/g')
  curl -s -o /dev/null -b "$2" --data-urlencode "csrf_token=$csrf" --data-urlencode "request=$request" \
    --data-urlencode decision=allow "$1/authorize"
}

# authorization_code JAR AUTHORIZE_URL: prints the code of the redirect (consent given).
authorization_code() {
  curl -s -o /dev/null -w '%{redirect_url}' -b "$1" "$2" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p'
}

# pkce_challenge VERIFIER: prints BASE64URL(SHA256(verifier)) (RFC 7636 S256).
pkce_challenge() {
  printf '%s' "$1" | openssl dgst -sha256 -binary | basenc --base64url | tr -d '='
}
