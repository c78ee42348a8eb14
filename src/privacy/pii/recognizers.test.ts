import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPiiEngine } from "./engine.js";
import type { PiiEntityType } from "./types.js";

const engine = createPiiEngine({ today: () => new Date("2025-06-01T00:00:00Z") });

/** The (type, text) pairs found in `text`, checking that every span slices back to its text. */
function found(text: string): [PiiEntityType, string][] {
  return engine.detect(text).map((finding) => {
    assert.equal(text.slice(finding.start, finding.end), finding.text, "span matches text");
    assert.ok(finding.score >= 0 && finding.score <= 1);
    return [finding.type, finding.text];
  });
}

function expectOnly(text: string, expected: [PiiEntityType, string][]): void {
  assert.deepEqual(found(text), expected, text);
}

describe("PII recognizers: positives and negatives, English and Chinese", () => {
  it("EMAIL_ADDRESS", () => {
    expectOnly("Mail jane.doe+test@mail.example.co.uk.", [["EMAIL_ADDRESS", "jane.doe+test@mail.example.co.uk"]]);
    expectOnly("邮箱：zhang_wei@163.com，谢谢", [["EMAIL_ADDRESS", "zhang_wei@163.com"]]);
    expectOnly("not an address: a@b, @handle, x@y.z, user@@example.com", []);
  });

  it("PHONE_NUMBER: international, Chinese mobile and landline, North American", () => {
    expectOnly("Call +44 20 7946 0958 today", [["PHONE_NUMBER", "+44 20 7946 0958"]]);
    expectOnly("Phone: (415) 555-2671.", [["PHONE_NUMBER", "(415) 555-2671"]]);
    expectOnly("我的手机号是13812345678。", [["PHONE_NUMBER", "13812345678"]]);
    expectOnly("办公室电话010-62345678。", [["PHONE_NUMBER", "010-62345678"]]);
    expectOnly("国际电话+86 138 0013 8000。", [["PHONE_NUMBER", "+86 138 0013 8000"]]);
    // Dates, versions, amounts, a too-short international number, an unassigned mobile prefix.
    expectOnly("On 2024-03-15 v10.0.19045 cost 1,234,567 and +44 12 is short; 10012345678 is not a mobile", []);
  });

  it("CREDIT_CARD: networks incl. UnionPay 16/19, separators; Luhn failures dropped", () => {
    expectOnly("Card 4111 1111 1111 1111 ok", [["CREDIT_CARD", "4111 1111 1111 1111"]]);
    expectOnly("Amex 3782-822463-10005.", [["CREDIT_CARD", "3782-822463-10005"]]);
    expectOnly("银联卡号6205500000000000004，谢谢", [["CREDIT_CARD", "6205500000000000004"]]);
    expectOnly("卡号 6200 0000 0000 0005", [["CREDIT_CARD", "6200 0000 0000 0005"]]);
    expectOnly("Card 4111 1111 1111 1112 and 4111-1111 1111-1111", []);
  });

  it("IBAN_CODE: compact and grouped; bad check digits dropped; the next word is not swallowed", () => {
    expectOnly("IBAN GB82 WEST 1234 5698 7654 32 please", [["IBAN_CODE", "GB82 WEST 1234 5698 7654 32"]]);
    expectOnly("收款账号DE89370400440532013000。", [["IBAN_CODE", "DE89370400440532013000"]]);
    expectOnly("IBAN GB82 WEST 1234 5698 7654 33", []);
  });

  it("US_SSN: dashed alone; spaced or bare only with context; invalid areas dropped", () => {
    expectOnly("Employee 536-90-4399 started.", [["US_SSN", "536-90-4399"]]);
    expectOnly("SSN: 536 90 4399", [["US_SSN", "536 90 4399"]]);
    expectOnly("ref 536904399 shipped", []);
    expectOnly("SSN 666-12-3456, 000-12-3456, 912-12-3456, 123-00-4567, 123-45-0000", []);
  });

  it("IP_ADDRESS: v4 and v6, validated", () => {
    expectOnly("from 192.168.1.20 and 2001:db8::8a2e:370:7334.", [
      ["IP_ADDRESS", "192.168.1.20"],
      ["IP_ADDRESS", "2001:db8::8a2e:370:7334"],
    ]);
    expectOnly("服务器地址10.0.0.1。", [["IP_ADDRESS", "10.0.0.1"]]);
    expectOnly("256.1.1.1 and 1.2.3.4.5 and 12:30:45 and std::vector", []);
  });

  it("URL: scheme or www; trailing punctuation and brackets left out", () => {
    expectOnly("(see https://example.com/a?b=c).", [["URL", "https://example.com/a?b=c"]]);
    expectOnly("访问www.example.cn/p/1.html查看", [["URL", "www.example.cn/p/1.html"]]);
    expectOnly("http:// and https://nohost are not URLs", []);
  });

  it("CN_RESIDENT_ID and CN_USCC: check characters required", () => {
    expectOnly("身份证号11010519491231002X，已登记", [["CN_RESIDENT_ID", "11010519491231002X"]]);
    expectOnly("身份证号110105194912310021", []);
    expectOnly("统一社会信用代码：91350100M000100Y43。", [["CN_USCC", "91350100M000100Y43"]]);
    expectOnly("统一社会信用代码：91350100M000100Y44。", []);
  });

  it("SECRET: provider formats, JWT, PEM, assignments; look-alikes ignored", () => {
    const jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    const pem =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";
    const key = `mp_${"0123456789abcdefghjkmnpqrstvwxyz01234567"}`;
    for (const secret of [
      "AKIAIOSFODNN7EXAMPLE",
      "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
      "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
      "sk-proj-AbC123dEf456GhI789jKl012MnO345",
      "AIzaSyA1234567890abcdefghijklmnopqrstuv",
      jwt,
      pem,
      key,
    ]) {
      expectOnly(`value: ${secret} end`, [["SECRET", secret]]);
    }
    expectOnly("password: hunter22.", [["SECRET", "hunter22"]]);
    expectOnly("数据库密码：Tiger2024!，请勿外传", [["SECRET", "Tiger2024!"]]);
    expectOnly("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", [
      ["SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ]);
    expectOnly("Reset your password at the portal; pip install sk-learn-is-not-a-key-at-all today.", []);
    expectOnly("not a jwt: eyJub3QgYSBqd3Qgaw.eyJhbGwgZmFrZQ.c2lnbmF0dXJl", []);
  });

  it("PERSON (English): lists, titles, cues; everyday words and places are not names", () => {
    expectOnly("Please contact Sarah Johnson in accounting.", [["PERSON", "Sarah Johnson"]]);
    expectOnly("Dear Mr. Okafor, thanks.", [["PERSON", "Okafor"]]);
    expectOnly("My name is Oluwaseun Adeyemi.", [["PERSON", "Oluwaseun Adeyemi"]]);
    expectOnly("Yesterday I met Natalie at the conference.", [["PERSON", "Natalie"]]);
    expectOnly("Will you mark the date? May I ask? Paris in April. Bill the client. Hope helps.", []);
  });

  it("PERSON (Chinese): cues, titles, three-character names before a verb", () => {
    expectOnly("我叫张伟，来自上海。", [["PERSON", "张伟"]]);
    expectOnly("联系人：欧阳娜娜，电话见附件。", [["PERSON", "欧阳娜娜"]]);
    expectOnly("请联系王先生处理。", [["PERSON", "王"]]);
    expectOnly("今天李明华老师不在。", [["PERSON", "李明华"]]);
    expectOnly("刘婷婷说明天会来。", [["PERSON", "刘婷婷"]]);
    expectOnly("中国银行和王国的历史，高明的设计。", []);
  });

  it("reports UTF-16 offsets after emoji and CJK text", () => {
    const text = "👩‍💻🚀 你好，世界 mail bob@example.com ✅";
    const [finding] = engine.detect(text);
    assert.ok(finding);
    assert.equal(finding.start, text.indexOf("bob@"));
    assert.equal(finding.end, text.indexOf(" ✅"));
    assert.equal(text.slice(finding.start, finding.end), "bob@example.com");
    const zh = "😀😀身份证号11010519491231002X";
    const [id] = engine.detect(zh);
    assert.deepEqual([id?.start, id?.end], [8, 26], "each emoji is two UTF-16 units");
  });
});
