//! [`ByteString`]: bytes that came from the kernel or from a process (arguments, paths, names).
//!
//! Linux paths and arguments are bytes, not UTF-8, and an attacker chooses them. The model keeps
//! them losslessly and still stays readable and queryable:
//!
//! * valid UTF-8 (nearly always) is stored as a plain string, so `{"path": "/etc/passwd"}` can be
//!   queried as it is;
//! * anything else is stored as `{"text": <lossy UTF-8, for reading>, "hex": <every byte>}`; the
//!   `hex` field is the truth and round-trips exactly.
//!
//! The same form is used in BSON and JSON. `bstr` and `Vec<u8>`'s own serde forms were not used
//! because they store every value as an array or binary, which makes plain queries impossible.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes from outside the process, kept exactly; see the module documentation for the stored form.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteString(Vec<u8>);

impl ByteString {
    /// Wraps raw bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The exact bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the value, giving back the exact bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The text, with invalid UTF-8 replaced by U+FFFD. Not safe for a terminal as it is: control
    /// characters are kept (see `crate::presentation::sanitize`).
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The text if the bytes are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<&str> for ByteString {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for ByteString {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl From<&[u8]> for ByteString {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "hex:{}", hex::encode(&self.0)),
        }
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match std::str::from_utf8(&self.0) {
            Ok(s) => serializer.serialize_str(s),
            Err(_) => {
                let mut st = serializer.serialize_struct("ByteString", 2)?;
                st.serialize_field("text", &String::from_utf8_lossy(&self.0))?;
                st.serialize_field("hex", &hex::encode(&self.0))?;
                st.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ByteStringVisitor)
    }
}

struct ByteStringVisitor;

impl<'de> Visitor<'de> for ByteStringVisitor {
    type Value = ByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, or a document {text, hex} for bytes that are not UTF-8")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteString, E> {
        Ok(ByteString::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ByteString, E> {
        Ok(ByteString::from(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteString, E> {
        Ok(ByteString::from(v))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<ByteString, E> {
        Ok(ByteString(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByteString, A::Error> {
        let mut bytes = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "hex" {
                let h: Cow<'de, str> = map.next_value()?;
                bytes = Some(hex::decode(h.as_bytes()).map_err(|e| {
                    de::Error::custom(format!("the hex form of a byte string is not hex: {e}"))
                })?);
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        bytes
            .map(ByteString)
            .ok_or_else(|| de::Error::missing_field("hex"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_a_plain_string_in_json() {
        let s = ByteString::from("/tmp/a b");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""/tmp/a b""#);
    }

    #[test]
    fn invalid_utf8_keeps_every_byte_in_json_and_bson() {
        let s = ByteString::from_bytes(vec![b'a', 0xff, 0, b'\n', 0xc3]);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""hex":"61ff000ac3""#), "{json}");
        let back: ByteString = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);

        let doc = bson::doc! { "v": bson::serialize_to_bson(&s).unwrap() };
        #[derive(Deserialize)]
        struct W {
            v: ByteString,
        }
        let w: W = bson::deserialize_from_document(doc).unwrap();
        assert_eq!(w.v, s);
    }

    #[test]
    fn bad_hex_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<ByteString>(r#"{"hex":"zz"}"#).is_err());
        assert!(serde_json::from_str::<ByteString>(r#"{"text":"x"}"#).is_err());
    }
}
