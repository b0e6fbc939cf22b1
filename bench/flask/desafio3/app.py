# REFERENCE IMPLEMENTATION FOR THE BENCHMARK ONLY: desafio3's posts API as
# write-up 002 describes it: Flask, psycopg2 and redis-py; GET/POST /api/posts
# straight from PostgreSQL and GET /api/posts/cache through Redis
# (cache-aside, key `posts_cache`, 60 s TTL, `fonte` says where the list came
# from). Same table, columns and JSON fields as our d3-web (crates/d3-web), so
# both do the same work; the schema is created by d3-web's migration (the
# original's db/init.sql played that part).
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


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=int(os.getenv('PORT', '5000')))
