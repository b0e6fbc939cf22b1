# Desafio 3's page on 8501, standing in for write-up 004's Streamlit front
# end (not packaged by Debian): it asks the API by its service name for the
# users and shows them in a table.
import os
from html import escape

import requests
from flask import Flask

app = Flask(__name__)

API_URL = os.getenv('API_URL', 'http://web:5000')


@app.route('/')
def index():
    try:
        resposta = requests.get(f'{API_URL}/users', timeout=5).json()
        fonte = 'cache Redis' if resposta['fonte'] == 'cache' else 'banco de dados'
        linhas = ''.join(f"<tr><td>{u['id']}</td><td>{escape(u['name'])}</td>"
                         f"<td>{escape(u['email'])}</td></tr>" for u in resposta['users'])
        corpo = (f"<p>Carregado do {fonte} ({len(resposta['users'])} usuários)</p>"
                 f"<table><tr><th>ID</th><th>Name</th><th>Email</th></tr>{linhas}</table>")
    except (requests.RequestException, ValueError, KeyError) as erro:
        return f'<!doctype html><title>Usuários</title><p>API fora do ar: {escape(str(erro))}</p>', 502
    return f'<!doctype html><title>Usuários</title><h1>Usuários</h1>{corpo}'


@app.route('/health')
def health():
    return {'status': 'healthy'}, 200


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=8501)
