"""A stand-in MCP server for the bridge's tests: JSON-RPC over standard input and output.

It answers every request with what it saw, and acts on a few methods:
"exit" ends it with status 3 before it answers, "hang" is never answered, and "ask"
sends the client a request of its own first and answers with the reply it got.
"""
import json
import os
import sys

initializes = 0
notifications = []
print("echo server: ready (a line that is not JSON)", flush=True)
print("echo server: a line on standard error", file=sys.stderr, flush=True)
for line in sys.stdin:
    message = json.loads(line)
    method = message.get("method")
    if "id" not in message:
        notifications.append(method)
        continue
    if method == "exit":
        sys.exit(3)
    if method == "hang":
        continue
    if method == "initialize":
        initializes += 1
        result = {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "echo", "version": "1"},
            "initializes": initializes,
        }
    elif method == "ask":
        print(json.dumps({"jsonrpc": "2.0", "id": "from-server", "method": "roots/list"}), flush=True)
        result = {"reply": json.loads(sys.stdin.readline())}
    else:
        result = {
            "method": method,
            "params": message.get("params"),
            "id_seen": message["id"],
            "pid": os.getpid(),
            "initializes": initializes,
            "notifications": notifications,
        }
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
