# REFERENCE IMPLEMENTATION: desafio3's web service in Flask, psycopg2 and
# redis-py, as the write-ups describe it, for the benchmark (bench/run) and
# as a test subject of `desafios check 3` (compose.yaml here):
#
# - write-up 002: GET/POST /api/posts straight from PostgreSQL and
#   GET /api/posts/cache through Redis (cache-aside, key `posts_cache`, 60 s
#   TTL, `fonte` says where the list came from); /health and /status.
# - write-ups 001 and 003: GET / counts a visit in Redis (`contador`) and
#   logs it in PostgreSQL; GET /log lists those rows.
# - write-up 004: users CRUD, read through Redis (`users_list` 60 s,
#   `user_<id>` 300 s), the cached copies deleted on every write; a
#   duplicate e-mail is a 409 (IntegrityError).
#
# Same tables, columns and JSON fields as our d3-web (crates/d3-web), so both
# do the same work. The schema is init.sql here under compose (as the
# original's db/init.sql), d3-web's migration under bench/run.
#
# As such Flask apps are usually written (and as the write-up suggests), it
# opens one PostgreSQL connection per request and shares one Redis client.
# The list returns the newest 100 posts and a write deletes the cached copy,
# exactly like d3-web, so the two answer with the same bytes of work.
import json
import os
from datetime import datetime

import psycopg2
import psycopg2.extras
import redis
from flask import Flask, jsonify, request

app = Flask(__name__)

cache = redis.Redis(host=os.getenv('CACHE_HOST', 'cache'),
                    port=int(os.getenv('CACHE_PORT', '6379')),
                    decode_responses=True)


def get_db_connection():
    return psycopg2.connect(host=os.getenv('DB_HOST', 'db'),
                            port=int(os.getenv('DB_PORT', '5432')),
                            dbname=os.getenv('DB_NAME', 'aplicacao'),
                            user=os.getenv('DB_USER', 'usuario'),
                            password=os.getenv('DB_PASS', 'senha'))


def buscar_posts():
    conn = get_db_connection()
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute('SELECT id, titulo, conteudo, autor, data_criacao FROM posts '
                        'ORDER BY id DESC LIMIT 100')
            posts = cur.fetchall()
    finally:
        conn.close()
    for post in posts:
        post['data_criacao'] = post['data_criacao'].isoformat()
    return posts


@app.route('/health')
def health():
    return jsonify({'status': 'healthy'}), 200


@app.route('/api/posts', methods=['GET'])
def listar_posts():
    posts = buscar_posts()
    return jsonify({'posts': posts, 'total': len(posts), 'fonte': 'banco_de_dados'}), 200


@app.route('/api/posts', methods=['POST'])
def criar_post():
    dados = request.get_json(silent=True) or {}
    if not dados.get('titulo') or not dados.get('conteudo'):
        return jsonify({'erro': "'titulo' e 'conteudo' são obrigatórios"}), 400
    conn = get_db_connection()
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute('INSERT INTO posts (titulo, conteudo, autor) VALUES (%s, %s, %s) '
                        'RETURNING id, titulo, conteudo, autor, data_criacao',
                        (dados['titulo'], dados['conteudo'], dados.get('autor', 'Anônimo')))
            post = cur.fetchone()
        conn.commit()
    finally:
        conn.close()
    cache.delete('posts_cache')
    post['data_criacao'] = post['data_criacao'].isoformat()
    print(f"[{datetime.now().isoformat()}] POST /api/posts: post {post['id']} criado")
    return jsonify(post), 201


@app.route('/api/posts/cache')
def listar_posts_cache():
    em_cache = cache.get('posts_cache')
    if em_cache:
        posts = json.loads(em_cache)
        fonte = 'cache'
    else:
        posts = buscar_posts()
        cache.setex('posts_cache', 60, json.dumps(posts))
        fonte = 'banco_de_dados'
    print(f"[{datetime.now().isoformat()}] GET /api/posts/cache: {len(posts)} posts (fonte: {fonte})")
    return jsonify({'posts': posts, 'total': len(posts), 'fonte': fonte}), 200



@app.route('/status')
def status():
    try:
        get_db_connection().close()
        banco = 'conectado'
    except psycopg2.Error:
        banco = 'desconectado'
    try:
        cache.ping()
        em_cache = 'conectado'
    except redis.RedisError:
        em_cache = 'desconectado'
    return jsonify({'banco_dados': banco, 'cache': em_cache, 'status': 'ok',
                    'timestamp': datetime.now().isoformat()}), 200


@app.route('/')
def index():
    visitas = cache.incr('contador')
    conn = get_db_connection()
    try:
        with conn.cursor() as cur:
            cur.execute('INSERT INTO logs (mensagem) VALUES (%s)', (f'visita {visitas}',))
            cur.execute('SELECT COUNT(*) FROM logs')
            registros = cur.fetchone()[0]
        conn.commit()
    finally:
        conn.close()
    return f'Banco PostgreSQL tem {registros} registros. Redis conta {visitas} visitas.'


@app.route('/log')
def log():
    conn = get_db_connection()
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute('SELECT id, mensagem, data_hora FROM logs ORDER BY id DESC LIMIT 100')
            linhas = cur.fetchall()
    finally:
        conn.close()
    for linha in linhas:
        linha['data_hora'] = linha['data_hora'].isoformat()
    return jsonify(linhas), 200


def consultar(sql, params=()):
    """Runs one statement and returns its rows as dicts (a write commits)."""
    conn = get_db_connection()
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, params)
            linhas = cur.fetchall() if cur.description else []
        conn.commit()
    finally:
        conn.close()
    return linhas


@app.route('/users', methods=['GET'])
def list_users():
    cached = cache.get('users_list')
    if cached:
        return jsonify({'users': json.loads(cached), 'fonte': 'cache'}), 200
    users = consultar('SELECT id, name, email FROM users ORDER BY id')
    cache.setex('users_list', 60, json.dumps(users))
    return jsonify({'users': users, 'fonte': 'banco_de_dados'}), 200


@app.route('/users', methods=['POST'])
def create_user():
    dados = request.get_json(silent=True) or {}
    if not dados.get('name') or not dados.get('email'):
        return jsonify({'erro': "'name' e 'email' são obrigatórios"}), 400
    try:
        user = consultar('INSERT INTO users (name, email) VALUES (%s, %s) '
                         'RETURNING id, name, email', (dados['name'], dados['email']))[0]
    except psycopg2.IntegrityError:
        return jsonify({'erro': 'e-mail já cadastrado'}), 409
    cache.delete('users_list')
    return jsonify(user), 201


@app.route('/users/<int:user_id>', methods=['GET'])
def get_user(user_id):
    cached = cache.get(f'user_{user_id}')
    if cached:
        return jsonify({'user': json.loads(cached), 'fonte': 'cache'}), 200
    users = consultar('SELECT id, name, email FROM users WHERE id = %s', (user_id,))
    if not users:
        return jsonify({'erro': 'usuário não encontrado'}), 404
    cache.setex(f'user_{user_id}', 300, json.dumps(users[0]))
    return jsonify({'user': users[0], 'fonte': 'banco_de_dados'}), 200


@app.route('/users/<int:user_id>', methods=['PUT'])
def update_user(user_id):
    dados = request.get_json(silent=True) or {}
    if not dados.get('name') or not dados.get('email'):
        return jsonify({'erro': "'name' e 'email' são obrigatórios"}), 400
    try:
        users = consultar('UPDATE users SET name = %s, email = %s WHERE id = %s '
                          'RETURNING id, name, email', (dados['name'], dados['email'], user_id))
    except psycopg2.IntegrityError:
        return jsonify({'erro': 'e-mail já cadastrado'}), 409
    if not users:
        return jsonify({'erro': 'usuário não encontrado'}), 404
    cache.delete('users_list', f'user_{user_id}')
    return jsonify(users[0]), 200


@app.route('/users/<int:user_id>', methods=['DELETE'])
def delete_user(user_id):
    users = consultar('DELETE FROM users WHERE id = %s RETURNING id', (user_id,))
    if not users:
        return jsonify({'erro': 'usuário não encontrado'}), 404
    cache.delete('users_list', f'user_{user_id}')
    return '', 204


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=int(os.getenv('PORT', '5000')))
