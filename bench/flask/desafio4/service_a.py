# Desafio 4's service A as write-up 001 describes it: a users list on 5001.
from flask import Flask, jsonify

app = Flask(__name__)

USUARIOS = [
    {'id': 1, 'nome': 'Ana', 'idade': 28},
    {'id': 2, 'nome': 'Bruno', 'idade': 35},
]


@app.route('/usuarios')
def usuarios():
    return jsonify(USUARIOS)


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5001)
