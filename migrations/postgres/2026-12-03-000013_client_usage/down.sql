DROP TABLE client_usage;
