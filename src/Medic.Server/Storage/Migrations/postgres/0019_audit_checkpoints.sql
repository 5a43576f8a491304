-- Signed audit checkpoints (chain heads signed with a key kept outside the database) and, per
-- chain, the entry up to which the chain was last verified, so page views check only what is new.
CREATE TABLE audit_checkpoints (
    chain       text NOT NULL,
    seq         bigint NOT NULL,
    hash        text NOT NULL,
    at          timestamptz NOT NULL,
    public_key  text NOT NULL,
    signature   text NOT NULL,
    PRIMARY KEY (chain, seq)
);

CREATE TABLE audit_verified (
    chain        text PRIMARY KEY,
    seq          bigint NOT NULL,
    hash         text NOT NULL,
    verified_at  timestamptz NOT NULL
);
