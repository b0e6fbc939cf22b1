# REFERENCE IMPLEMENTATION FOR THE BENCHMARK ONLY: desafio5's gateway as
# write-up 001 describes it: Flask on 5004, /users and /orders forwarded with
# `requests` to the users and orders services, results returned as they came.
# The service URLs come from the environment so the benchmark can point the
# gateway at the same users/orders processes our gateway uses.
import os

import requests
from flask import Flask, Response, request

app = Flask(__name__)

USERS_URL = os.getenv('USERS_URL', 'http://users_service:5003')
ORDERS_URL = os.getenv('ORDERS_URL', 'http://orders_service:5002')


def repassar(url):
    resposta = requests.get(url, params=request.args, timeout=5)
    return Response(resposta.content, status=resposta.status_code,
                    content_type=resposta.headers.get('Content-Type', 'application/json'))


@app.route('/health')
def health():
    return {'status': 'healthy', 'service': 'gateway'}, 200


@app.route('/users')
def users():
    return repassar(f'{USERS_URL}/users')


@app.route('/orders')
def orders():
    return repassar(f'{ORDERS_URL}/orders')


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=int(os.getenv('PORT', '5004')))
