//! Request signing, exactly as each platform documents it. The three recipes differ in what
//! is the key and what is the message, so each has its own function and test vector.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// DingTalk custom robot: key = the secret, message = `timestamp + "\n" + secret`, timestamp
/// in **milliseconds**; the base64 result is URL-encoded and sent as the `timestamp` and
/// `sign` query parameters. Returns the sign before URL encoding (the URL builder encodes it).
pub fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    BASE64.encode(hmac_sha256(secret.as_bytes(), message.as_bytes()))
}

/// Feishu/Lark custom bot: key = `timestamp + "\n" + secret`, message = the empty string,
/// timestamp in **seconds**; the base64 result goes in the JSON body as `sign` next to
/// `timestamp` (a string). The opposite of DingTalk: reusing that recipe yields error 19021.
pub fn feishu_sign(timestamp_s: i64, secret: &str) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    BASE64.encode(hmac_sha256(key.as_bytes(), b""))
}

/// Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
/// A secret of the form `whsec_<base64>` is the base64 of the key bytes (as the spec's
/// libraries read it); any other secret is used as raw bytes.
pub fn standard_webhooks_signature(message_id: &str, timestamp_s: i64, body: &[u8], secret: &str) -> String {
    let key = match secret.strip_prefix("whsec_").map(|encoded| BASE64.decode(encoded)) {
        Some(Ok(bytes)) => bytes,
        _ => secret.as_bytes().to_vec(),
    };
    let mut signed = format!("{message_id}.{timestamp_s}.").into_bytes();
    signed.extend_from_slice(body);
    format!("v1,{}", BASE64.encode(hmac_sha256(&key, &signed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values computed with the platforms' own published Python samples
    // (delivery-and-names.md §1.2 and §1.3), run with Python 3's standard library:
    //
    //   DingTalk: secret_enc = secret.encode('utf-8')
    //             string_to_sign = '{}\n{}'.format(timestamp, secret)
    //             hmac_code = hmac.new(secret_enc, string_to_sign.encode('utf-8'), digestmod=hashlib.sha256).digest()
    //             sign = urllib.parse.quote_plus(base64.b64encode(hmac_code))
    //   Feishu:   string_to_sign = '{}\n{}'.format(timestamp, secret)
    //             hmac_code = hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
    //             sign = base64.b64encode(hmac_code).decode('utf-8')
    //
    // with the DingTalk doc's example shapes (a `SEC…` secret, a millisecond timestamp) and
    // the Feishu doc's timestamp 1599360473.

    #[test]
    fn dingtalk_matches_the_official_python_sample() {
        let sign = dingtalk_sign(1_577_262_236_757, "SECxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_eq!(sign, DINGTALK_EXPECTED);
        // quote_plus of that value, as the doc sends it in the query string.
        let encoded = url::form_urlencoded::byte_serialize(sign.as_bytes()).collect::<String>();
        assert_eq!(encoded, DINGTALK_EXPECTED_URL);
    }

    #[test]
    fn feishu_matches_the_official_python_sample_and_differs_from_dingtalk() {
        let sign = feishu_sign(1_599_360_473, "demo-secret");
        assert_eq!(sign, FEISHU_EXPECTED);
        assert_ne!(sign, dingtalk_sign(1_599_360_473, "demo-secret"), "the two recipes swap key and message");
    }

    /// The test vector of the Standard Webhooks reference libraries
    /// (standard-webhooks/standard-webhooks, libraries' tests).
    #[test]
    fn standard_webhooks_matches_the_reference_vector() {
        let signature = standard_webhooks_signature(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    const DINGTALK_EXPECTED: &str = "YrQKIyufsID9dqtHoZiJx4Hi+Y1tBZOk/aoh/HfiCiw=";
    const DINGTALK_EXPECTED_URL: &str = "YrQKIyufsID9dqtHoZiJx4Hi%2BY1tBZOk%2Faoh%2FHfiCiw%3D";
    const FEISHU_EXPECTED: &str = "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s=";
}
