//! RFC 8785 JSON Canonicalization Scheme: the one byte form jejak hashes and signs JSON in.

use serde::Serialize;

use crate::Result;

/// Serialises `value` to its RFC 8785 canonical bytes (sorted keys, no whitespace,
/// ECMAScript number formatting).
pub fn to_vec<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(serde_json_canonicalizer::to_vec(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_strips_whitespace() {
        let v = json!({"b": 1, "a": [true, null, "x"], "c": {"z": 1.5, "y": 1e21}});
        let out = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(out, r#"{"a":[true,null,"x"],"b":1,"c":{"y":1e+21,"z":1.5}}"#);
    }

    #[test]
    fn rfc8785_number_forms() {
        // From RFC 8785 appendix B, parsed from text as a request body would be.
        let v: serde_json::Value =
            serde_json::from_str("[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]").unwrap();
        let out = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(out, "[333333333.3333333,1e+30,4.5,0.002,1e-27]");
    }
}
