-- Desafio 3 schema and seed data. The application applies this once per
-- database on start (sqlx records it in _sqlx_migrations), so a restart
-- neither fails nor inserts the seed rows twice.

-- Write-up 002: the posts of the API.
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

-- Write-up 001: the students of /todos and /aluno/{id}.
CREATE TABLE alunos (
    id    SERIAL PRIMARY KEY,
    nome  VARCHAR(100) NOT NULL,
    curso VARCHAR(100) NOT NULL
);

-- Write-up 004: users with a unique e-mail. The index is on lower(email) so
-- that Ana@Test.com and ana@test.com are the same person.
CREATE TABLE users (
    id         SERIAL PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    email      VARCHAR(254) NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

INSERT INTO posts (titulo, conteudo, autor) VALUES
    ('Bem-vindo ao Desafio 3', 'Este post veio do PostgreSQL, criado na primeira inicialização.', 'Sistema'),
    ('Docker Compose', 'web, db e cache sobem juntos, na ordem dada pelos healthchecks.', 'Sistema'),
    ('Cache com Redis', 'GET /api/posts/cache guarda a lista no Redis por 60 segundos.', 'Sistema');

INSERT INTO alunos (nome, curso) VALUES
    ('Ana Souza', 'Engenharia de Software'),
    ('Bruno Lima', 'Ciência da Computação'),
    ('Carla Mendes', 'Sistemas de Informação');
