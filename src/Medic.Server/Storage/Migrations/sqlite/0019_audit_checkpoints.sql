-- Signed audit checkpoints (chain heads signed with a key kept outside the database) and, per
-- chain, the entry up to which the chain was last verified, so page views check only what is new.
CREATE TABLE audit_checkpoints (
    chain       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    at          TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);

CREATE TABLE audit_verified (
    chain        TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    verified_at  TEXT NOT NULL
);
