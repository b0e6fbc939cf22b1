# Desafio 5's orders service as write-up 001 describes it: GET /orders on 5002.
from flask import Flask, jsonify

app = Flask(__name__)


@app.route('/orders')
def orders():
    return jsonify([{'id': 1, 'user_id': 1, 'product': 'Notebook'}])


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5002)
