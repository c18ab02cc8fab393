"""The benchmarks' copied lines get ids shaped like real ones (bench/rekey.py)."""

import json
import re

from bench.rekey import rekeyed

CALL = (b'{"type":"assistant","sessionId":"1b4e28ba-2fa1-11d2-883f-0016cb000000","requestId":"req_011CfVEStr1Z0va5ZLItaci1",'
        b'"message":{"id":"msg_01BYciL4BjW6ebF6XNtqbqxX","content":[{"type":"tool_use","id":"toolu_01sku2mDMeud6L8CLcUl2YBG"}]}}')
RESULT = b'{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_01sku2mDMeud6L8CLcUl2YBG"}]}}'
# A subagent's line embedded in a progress line: its ids are escaped inside a JSON string.
PROGRESS = b'{"type":"progress","data":"{\\"id\\":\\"msg_01BYciL4BjW6ebF6XNtqbqxX\\"}"}'


def test_ids_keep_their_shape_and_stay_paired():
    call, result, progress = rekeyed([CALL, RESULT, PROGRESS], "s1")
    tool = json.loads(call)["message"]["content"][0]["id"]
    assert re.fullmatch(r"toolu_01[0-9A-Za-z]{22}", tool) and tool != "toolu_01sku2mDMeud6L8CLcUl2YBG"
    assert json.loads(result)["message"]["content"][0]["tool_use_id"] == tool
    assert re.fullmatch(r"req_011C[0-9A-Za-z]{20}", json.loads(call)["requestId"])
    message = json.loads(call)["message"]["id"]
    assert re.fullmatch(r"msg_01[0-9A-Za-z]{22}", message)
    assert json.loads(json.loads(progress)["data"])["id"] == message
    assert json.loads(call)["sessionId"] != "1b4e28ba-2fa1-11d2-883f-0016cb000000"


def test_new_ids_do_not_sort_after_every_stored_id():
    """Real ids are random: a copy's ids must not all sort after the originals (zone maps would skip
    every row group when they are looked up), nor be the same for two tags."""
    tools = [json.loads(rekeyed([CALL], f"s{n}")[0])["message"]["content"][0]["id"] for n in range(40)]
    assert len(set(tools)) == 40
    assert any(tool < "toolu_01sku2mDMeud6L8CLcUl2YBG" for tool in tools)
    assert any(tool > "toolu_01sku2mDMeud6L8CLcUl2YBG" for tool in tools)
