#!/usr/bin/env python3
"""A local stand-in for Eastmoney's report list (`GET /report/list`, qType=0), for trying
`ratingwatch ratings sync` without the internet (README.md, "Ratings feed").

Serves the records of a JSON file (a list of records in the list's own format, e.g.
tests/fixtures/eastmoney-reports/watchlist-2023.json) filtered by `code` and by publish date
between `beginTime` and `endTime`, newest first, paged by `pageNo`/`pageSize`, in the answer
envelope `{"hits", "size", "data", "TotalPage", "pageNo", "currentYear"}`; with `cb=NAME` the
body is JSONP. Usage: python3 examples/report_list_server.py RECORDS.json [PORT]
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

RECORDS = json.load(open(sys.argv[1], encoding="utf-8"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/report/list":
            self.send_error(404)
            return
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        begin, end = q.get("beginTime", "0000"), q.get("endTime", "9999")
        rows = [r for r in RECORDS if r["stockCode"] == q.get("code") and begin <= r["publishDate"][:10] <= end]
        rows.sort(key=lambda r: r["publishDate"], reverse=True)
        size, page = int(q.get("pageSize", "50")), int(q.get("pageNo", "1"))
        pages = (len(rows) + size - 1) // size
        data = rows[(page - 1) * size : page * size]
        body = json.dumps({"hits": len(rows), "size": len(data), "data": data, "TotalPage": pages, "pageNo": page, "currentYear": 2023}, ensure_ascii=False)
        if q.get("cb"):
            body = f"{q['cb']}({body});"
        payload = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 8790), Handler).serve_forever()
