"""The baseline for bench/notify.py: a bare Flask endpoint that reads the body and answers 204."""

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/wechat/pay/notify")
def notify() -> Response:
    request.get_data()
    return Response(status=204)
