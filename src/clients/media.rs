//! What Radarr and Sonarr say about a file besides its path and size: the quality it was grabbed
//! in (`quality.quality`) and what their media scan found in it (`mediaInfo`). Both *arrs write
//! the same shapes (`QualityModel`, `MediaInfoResource`).
//!
//! A pass only reports these (and `keep_lossless` keeps by them), so they are read leniently:
//! a part of another JSON type than the spec's (a number as text, an object as a list) reads as
//! absent instead of making the whole movie or episode record unreadable, which would keep it
//! and, for an episode, its whole series.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// `QualityModel`: the quality a file was grabbed in; its revision is not read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct QualityModel {
    #[serde(default, deserialize_with = "object")]
    pub quality: Option<QualityResource>,
}

/// `Quality`: Radarr's `{id, name, source, resolution, modifier}`, Sonarr's without `modifier`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct QualityResource {
    /// `Remux-2160p`, `Bluray-2160p Remux`, `WEBDL-1080p`.
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    /// 2160, 1080 …; 0 when unknown.
    #[serde(default, deserialize_with = "integer")]
    pub resolution: Option<i64>,
}

/// `MediaInfoResource`, reduced to the main audio track and the video's size.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaInfo {
    /// `TrueHD Atmos`, `DTS-HD MA`, `EAC3`; empty when the scan found none.
    #[serde(default, deserialize_with = "text")]
    pub audio_codec: Option<String>,
    /// A number: 7.1, 5.1, 2.
    #[serde(default, deserialize_with = "number")]
    pub audio_channels: Option<f64>,
    /// `3840x2160`.
    #[serde(default, deserialize_with = "text")]
    pub resolution: Option<String>,
}

/// The JSON types a lenient field accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Number,
    Text,
}

/// What a lenient field read: its value when it had the wanted type, else nothing.
enum Read<T> {
    Number(f64),
    Text(String),
    Object(T),
    Other,
}

/// Reads any JSON value, keeping it only when it has the wanted type; a map is read as `T`.
struct Lenient<T> {
    want: Option<Want>,
    object: PhantomData<T>,
}

impl<T> Lenient<T> {
    fn want(want: Option<Want>) -> Self {
        Lenient {
            want,
            object: PhantomData,
        }
    }

    fn number(&self, n: f64) -> Read<T> {
        if self.want == Some(Want::Number) {
            Read::Number(n)
        } else {
            Read::Other
        }
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Lenient<T> {
    type Value = Read<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Read<T>, E> {
        Ok(Read::Other)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Read<T>, E> {
        Ok(self.number(n as f64))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Read<T>, E> {
        Ok(self.number(n as f64))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Read<T>, E> {
        Ok(self.number(n))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Read<T>, E> {
        Ok(if self.want == Some(Want::Text) {
            Read::Text(s.to_owned())
        } else {
            Read::Other
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read<T>, E> {
        Ok(Read::Other)
    }

    fn visit_none<E: de::Error>(self) -> Result<Read<T>, E> {
        Ok(Read::Other)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Read<T>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Read::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Read<T>, A::Error> {
        if self.want.is_some() {
            let mut map = map;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Read::Other);
        }
        // The structs read here have lenient fields only: a map never fails to be one.
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Read::Object)
    }
}

/// A JSON number, or `None` for anything else.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(
        match d.deserialize_any(Lenient::<IgnoredAny>::want(Some(Want::Number)))? {
            Read::Number(n) => Some(n),
            _ => None,
        },
    )
}

/// A JSON number that is a whole number, or `None`.
fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(number(d)?
        .filter(|n| n.fract() == 0.0 && n.abs() < 1e15)
        .map(|n| n as i64))
}

/// A JSON string, or `None` for anything else.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(
        match d.deserialize_any(Lenient::<IgnoredAny>::want(Some(Want::Text)))? {
            Read::Text(s) => Some(s),
            _ => None,
        },
    )
}

/// A JSON object read as `T`, or `None` for anything else.
pub(super) fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(match d.deserialize_any(Lenient::<T>::want(None))? {
        Read::Object(t) => Some(t),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        id: i32,
        #[serde(default, deserialize_with = "object")]
        quality: Option<QualityModel>,
        #[serde(default, deserialize_with = "object")]
        media_info: Option<MediaInfo>,
    }

    #[test]
    fn the_spec_shapes_are_read() {
        let f: File = serde_json::from_str(
            r#"{"id":1,"quality":{"quality":{"id":31,"name":"Remux-2160p","source":"bluray",
                "resolution":2160,"modifier":"remux"},"revision":{"version":1,"real":0,"isRepack":false}},
                "mediaInfo":{"audioBitrate":0,"audioChannels":7.1,"audioCodec":"TrueHD Atmos",
                "audioLanguages":"eng","resolution":"3840x2160","videoFps":23.976}}"#,
        )
        .unwrap();
        let q = f.quality.unwrap().quality.unwrap();
        assert_eq!(q.name.as_deref(), Some("Remux-2160p"));
        assert_eq!(q.resolution, Some(2160));
        let m = f.media_info.unwrap();
        assert_eq!(m.audio_codec.as_deref(), Some("TrueHD Atmos"));
        assert_eq!(m.audio_channels, Some(7.1));
        assert_eq!(m.resolution.as_deref(), Some("3840x2160"));
    }

    #[test]
    fn odd_parts_read_as_absent_and_the_record_stays_readable() {
        for body in [
            r#"{"id":1}"#,
            r#"{"id":1,"quality":null,"mediaInfo":null}"#,
            r#"{"id":1,"quality":"Remux-2160p","mediaInfo":[1,{"a":2}]}"#,
            r#"{"id":1,"quality":{"quality":["x"]},"mediaInfo":{"audioChannels":"7.1",
                "audioCodec":7,"resolution":{"w":1}}}"#,
            r#"{"id":1,"quality":{"quality":{"name":null,"resolution":"2160p"}},
                "mediaInfo":{"audioChannels":true,"audioCodec":null}}"#,
            r#"{"id":1,"quality":{"quality":{"resolution":2160.5}},"mediaInfo":{"audioChannels":[]}}"#,
        ] {
            let f: File = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(f.id, 1);
            let q = f.quality.and_then(|q| q.quality).unwrap_or_default();
            assert_eq!((q.name, q.resolution), (None, None), "{body}");
            let m = f.media_info.unwrap_or_default();
            assert_eq!(m, MediaInfo::default(), "{body}");
        }
    }

    #[test]
    fn broken_json_is_still_an_error() {
        let bad = serde_json::from_str::<File>(r#"{"id":1,"mediaInfo":{"audioCodec":"#);
        assert!(bad.is_err());
    }
}
