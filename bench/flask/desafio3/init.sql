-- Desafio 3's schema, as the original's db/init.sql (write-up 002): the
-- PostgreSQL image runs it once, on the first start of an empty volume
-- (compose.yaml mounts it into /docker-entrypoint-initdb.d). The same tables
-- and columns as d3-web's migration (crates/d3-web/migrations), so app.py
-- works on either.

-- Write-up 002: the posts of the API, with three to start with.
CREATE TABLE posts (
    id           SERIAL PRIMARY KEY,
    titulo       VARCHAR(200) NOT NULL,
    conteudo     TEXT         NOT NULL,
    autor        VARCHAR(100) NOT NULL DEFAULT 'Anônimo',
    data_criacao TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Write-ups 001 and 003: one row per visit to `/`.
CREATE TABLE logs (
    id        SERIAL PRIMARY KEY,
    mensagem  TEXT        NOT NULL,
    data_hora TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Write-up 004: users with a unique e-mail.
CREATE TABLE users (
    id         SERIAL PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    email      VARCHAR(254) NOT NULL UNIQUE,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);

INSERT INTO posts (titulo, conteudo, autor) VALUES
    ('Bem-vindo ao Desafio 3', 'Este post veio do PostgreSQL, criado na primeira inicialização.', 'Sistema'),
    ('Docker Compose', 'web, db e cache sobem juntos, na ordem dada pelos healthchecks.', 'Sistema'),
    ('Cache com Redis', 'GET /api/posts/cache guarda a lista no Redis por 60 segundos.', 'Sistema');
