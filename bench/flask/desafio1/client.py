# Desafio 1's client as write-up 000 shows its loop: every 5 s, GET the server
# by its compose name, print the answer's request number.
import os
import time

import requests

SERVER_URL = os.getenv('SERVER_URL', 'http://flask-server:8080')

while True:
    try:
        time.sleep(5)
        response = requests.get(f"{SERVER_URL}/", timeout=5)
        if response.status_code == 200:
            data = response.json()
            print("✅ Requisição bem-sucedida!")
            print(f"Request Number: {data.get('request_number')}")
    except requests.exceptions.ConnectionError:
        print("❌ Não foi possível conectar ao servidor. Tentando novamente...")
    except requests.exceptions.Timeout:
        print("⏱️ Timeout na requisição")
