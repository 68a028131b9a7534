import json

from lettings.app import application
from lettings.data import LETTINGS, find


def call(path):
    captured = {}

    def start_response(status, headers):
        captured["status"] = status
        captured["headers"] = dict(headers)

    body = b"".join(application({"PATH_INFO": path}, start_response))
    return captured["status"], captured["headers"], body.decode("utf-8")


def test_the_index_lists_every_letting():
    status, _, body = call("/")
    assert status == "200 OK"
    for letting in LETTINGS:
        assert letting["title"] in body


def test_a_letting_has_its_page():
    status, _, body = call("/lettings/2")
    assert status == "200 OK"
    assert "Oceanview Retreat" in body
    assert "3 room(s)" in body


def test_an_unknown_letting_is_not_found():
    assert call("/lettings/99")[0] == "404 Not Found"
    assert call("/lettings/abc")[0] == "404 Not Found"


def test_health_answers_json():
    status, headers, body = call("/health")
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["status"] == "ok"


def test_find():
    assert find(1)["city"] == "Yucca Valley"
    assert find(42) is None
