-- Cache invalidations still owed to Redis. A write records here, in its own
-- transaction, the cache keys it makes stale, and deletes those rows once
-- Redis has dropped the keys. If Redis was away, the rows stay, and every
-- web replica (one started later too) deletes those keys before it trusts
-- the cache again: see crates/d3-web/src/cache.rs.
CREATE TABLE cache_pendente (
    id        BIGSERIAL   PRIMARY KEY,
    chave     TEXT        NOT NULL,
    criado_em TIMESTAMPTZ NOT NULL DEFAULT now()
);
