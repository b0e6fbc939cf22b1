-- wrk script for the write case of desafio3: POST /api/posts with a JSON
-- body, the same for ours and the Flask reference.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"titulo": "Post do benchmark", "conteudo": "Criado pelo wrk em bench/run.", "autor": "wrk"}'
