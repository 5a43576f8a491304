-- Agentless servers: nodes reached through the system ssh client instead of an agent.
-- ssh_key names a private key file in the data directory (never the key itself);
-- ssh_host_key is the pinned public host key ("type base64"), learned on first contact when ssh_accept_new is set.
ALTER TABLE nodes ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent';
ALTER TABLE nodes ADD COLUMN ssh_address TEXT;
ALTER TABLE nodes ADD COLUMN ssh_user TEXT;
ALTER TABLE nodes ADD COLUMN ssh_key TEXT;
ALTER TABLE nodes ADD COLUMN ssh_host_key TEXT;
ALTER TABLE nodes ADD COLUMN ssh_accept_new INTEGER NOT NULL DEFAULT 0;
