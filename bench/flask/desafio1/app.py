# REFERENCE IMPLEMENTATION FOR THE BENCHMARK ONLY: desafio1's Flask server as
# write-up 000 shows it (/, /health, /stats, a global counter, one print per
# request, app.run(..., debug=True)). /stats is not shown in the write-up; it
# returns what our d1-server's /stats returns. The port comes from PORT so
# the benchmark can pick a free one (the write-up hard-codes 8080).
import os
from datetime import datetime

from flask import Flask, jsonify

app = Flask(__name__)
request_count = 0
start_time = datetime.now()


@app.route('/')
def home():
    global request_count
    request_count += 1

    response_data = {
        'message': 'Servidor Flask em andamento!',
        'timestamp': datetime.now().isoformat(),
        'request_number': request_count,
        'container_name': os.getenv('HOSTNAME', 'unknown'),
        'status': 'running',
        'port': 8080
    }

    print(f"[{datetime.now().strftime('%Y-%m-%d %H:%M:%S')}] Requisição #{request_count} recebida")

    return jsonify(response_data), 200


@app.route('/health')
def health():
    return jsonify({'status': 'healthy', 'service': 'flask-server'}), 200


@app.route('/stats')
def stats():
    return jsonify({
        'total_requests': request_count,
        'uptime_seconds': round((datetime.now() - start_time).total_seconds(), 3),
        'start_time': start_time.isoformat(),
        'container_name': os.getenv('HOSTNAME', 'unknown'),
    }), 200


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=int(os.getenv('PORT', '8080')), debug=True)
