ALTER TABLE clients DROP COLUMN require_mfa;
ALTER TABLE grants DROP COLUMN second_factor;
ALTER TABLE authorization_codes DROP COLUMN second_factor;
ALTER TABLE sessions DROP COLUMN second_factor_at;
DROP TABLE recovery_codes;
DROP TABLE totp_factors;
