# Desafio 4's service B as write-up 001 describes it: asks A by its service
# name and answers one sentence per user on 7000.
import requests
from flask import Flask, jsonify

app = Flask(__name__)


@app.route('/info')
def info():
    usuarios = requests.get('http://service_a:5001/usuarios', timeout=5).json()
    return jsonify([f"Usuário {u['nome']} ({u['idade']} anos) - ativo desde 2023" for u in usuarios])


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=7000)
