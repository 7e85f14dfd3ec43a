"""Two small server-rendered pages, Chinese and English, for payers.

- the test provider's checkout page (``/pay/test/{payment_id}``): "Pay / 支付" and
  "Cancel / 取消" call the test-complete / test-cancel routes, as Stripe's page would;
- the page Stripe (or the test page) returns the payer to (``/pay/{payment_id}/result``).

They show only what the payer already knows: what is paid for, the amount, the status.
"""

import json
from html import escape
from string import Template

from events.money import format_money
from events.payments.models import Payment
from events.web.statuses import STATUS_LABELS, status_labels

_PAGE = Template("""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
$refresh<title>$title_zh · $title_en</title>
<style>
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;
background:#f4f1ea;color:#222}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;
box-shadow:0 1px 4px #0002}
.note{background:#fff4d6;border-radius:6px;padding:.5rem .75rem;font-size:.9rem}
.amount{font-size:2.2rem;font-weight:700;margin:.5rem 0}
.status{font-size:1.1rem;font-weight:600}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{flex:1;font-size:1.1rem;padding:.8rem;border-radius:8px;border:0;cursor:pointer}
#pay{background:#1a7f37;color:#fff}#cancel{background:#ddd}
button[disabled]{opacity:.5;cursor:default}
</style>
</head>
<body>
<main>
$body
</main>
</body>
</html>
""")

_TEST_BODY = Template("""<p class="note">测试支付：不会真实扣款。<br>
Test payment: no real money moves.</p>
<h1>$description</h1>
<p class="amount">$amount</p>
<p class="status" id="status" data-status="$status">$status_zh / $status_en</p>
$actions
<p id="message" role="status"></p>
<script>
const labels = $labels;
const message = document.getElementById("message");
async function send(action) {
  document.querySelectorAll("button").forEach(b => b.disabled = true);
  const response = await fetch("/api/v1/payments/$payment_id/" + action + "?pay_token=$pay_token",
                                 {method: "POST"});
  const body = await response.json();
  if (response.ok) {
    const [zh, en] = labels[body.status] || [body.status, body.status];
    document.getElementById("status").textContent = zh + " / " + en;
    document.querySelector(".actions").remove();
    setTimeout(() => { window.location.href = "$result_url"; }, 800);
  } else {
    message.textContent = body.detail || body.title;
    document.querySelectorAll("button").forEach(b => b.disabled = false);
  }
}
document.getElementById("pay").addEventListener("click", () => send("test-complete"));
document.getElementById("cancel").addEventListener("click", () => send("test-cancel"));
</script>""")

_ACTIONS = """<div class="actions">
<button id="pay" type="button">支付 / Pay</button>
<button id="cancel" type="button">取消 / Cancel</button>
</div>"""

_RESULT_BODY = Template("""<h1>$description</h1>
<p class="amount">$amount</p>
<p class="status" data-status="$status">$status_zh / $status_en</p>
<p>$hint</p>
$back""")


def _labels(status: str) -> tuple[str, str]:
    return status_labels("payment", status)


def _labels_json() -> str:
    return json.dumps(STATUS_LABELS["payment"], ensure_ascii=False)


def test_checkout_page(payment: Payment, pay_token: str) -> str:
    zh, en = _labels(payment.status)
    open_ = payment.status in ("created", "pending")
    body = _TEST_BODY.substitute(
        description=escape(payment.description),
        amount=escape(format_money(payment.amount, payment.currency)),
        status=escape(payment.status),
        status_zh=zh,
        status_en=en,
        actions=_ACTIONS if open_ else "",
        labels=_labels_json(),
        payment_id=escape(str(payment.id)),
        pay_token=escape(pay_token),
        result_url=escape(f"/pay/{payment.id}/result"),
    )
    return _PAGE.substitute(title_zh="测试支付", title_en="Test payment", refresh="", body=body)


def result_page(payment: Payment, *, canceled: bool = False, back: str | None = None) -> str:
    zh, en = _labels(payment.status)
    waiting = payment.status in ("created", "pending")
    if waiting and canceled:
        hint = "支付未完成，可返回重新支付。 / The payment was not completed; you may try again."
    elif waiting:
        hint = "正在确认支付，请稍候…… / Confirming your payment, one moment…"
    else:
        hint = ""
    body = _RESULT_BODY.substitute(
        description=escape(payment.description),
        amount=escape(format_money(payment.amount, payment.currency)),
        status=escape(payment.status),
        status_zh=zh,
        status_en=en,
        hint=hint,
        back=(
            f'<p><a class="back" data-testid="back" href="{escape(back)}">'
            "返回订单 / Back to your order</a></p>"
            if back
            else ""
        ),
    )
    refresh = '<meta http-equiv="refresh" content="3">\n' if waiting and not canceled else ""
    return _PAGE.substitute(title_zh="支付结果", title_en="Payment", refresh=refresh, body=body)
