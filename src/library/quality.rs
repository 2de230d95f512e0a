//! What a file is, as its *arr describes it: the quality it was grabbed in and the main audio
//! track the *arr's media scan found. `history` says so of every deletion ("2160p Remux · TrueHD
//! Atmos 7.1"), and `keep_lossless` keeps the files whose audio a lossy download could not give
//! back.
//!
//! A library holds a file per episode, and a library has few distinct qualities: each
//! [`MediaFile`](super::MediaFile) holds a two-byte [`QualityId`] into the library's
//! [`Qualities`], which holds each distinct [`Quality`] once.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A file's quality and main audio track, as far as the *arr knows them. Every part may be
/// missing: an *arr that has not scanned a file has no audio codec for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Quality {
    /// The *arr's quality name: `Remux-2160p`, `Bluray-1080p` (Radarr), `Bluray-2160p Remux`,
    /// `WEBDL-1080p` (Sonarr).
    pub name: Option<Box<str>>,
    /// The quality's resolution: 2160, 1080, 720 …
    pub resolution: Option<u16>,
    /// The video's size as the media scan measured it: `3840x2160`, `1920x800`.
    pub video_resolution: Option<Box<str>>,
    /// The main audio track's codec as the *arr names it: `TrueHD Atmos`, `DTS-HD MA`, `EAC3`.
    pub audio_codec: Option<Box<str>>,
    pub audio_channels: Option<Channels>,
}

impl Quality {
    /// True when the *arr told nothing about the file.
    pub fn is_unknown(&self) -> bool {
        *self == Quality::default()
    }

    /// Whether the main audio track is lossless; `None` when its codec is not known.
    pub fn lossless(&self) -> Option<bool> {
        self.audio_codec.as_deref().map(is_lossless_codec)
    }

    /// The quality as people read it: `2160p Remux`, `1080p WEBDL`, `DVD`; `None` when unknown.
    pub fn label(&self) -> Option<String> {
        quality_label(self.name.as_deref(), self.resolution.map(i64::from))
    }

    /// The main audio track as people read it: `TrueHD Atmos 7.1`; `None` without a codec.
    pub fn audio(&self) -> Option<String> {
        audio_label(self.audio_codec.as_deref(), self.audio_channels)
    }
}

impl Serialize for Quality {
    /// The fields `plan --json` and `history --json` give a file: `quality`, `resolution`,
    /// `video_resolution`, `audio_codec`, `audio_channels` (7.1), `lossless`; unknown ones left
    /// out.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Fields<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            quality: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            resolution: Option<u16>,
            #[serde(skip_serializing_if = "Option::is_none")]
            video_resolution: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            audio_codec: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            audio_channels: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            lossless: Option<bool>,
        }
        Fields {
            quality: self.name.as_deref(),
            resolution: self.resolution,
            video_resolution: self.video_resolution.as_deref(),
            audio_codec: self.audio_codec.as_deref(),
            audio_channels: self.audio_channels.map(Channels::as_f64),
            lossless: self.lossless(),
        }
        .serialize(s)
    }
}

/// An audio channel layout as the *arrs count it (7.1 is seven channels and a subwoofer), held
/// in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channels(u16);

impl Channels {
    /// The *arr's `audioChannels`; `None` for zero, a negative, a non-number or more than 64
    /// channels (no layout has that many: the number is not one).
    pub fn from_f64(n: f64) -> Option<Channels> {
        let tenths = (n * 10.0).round();
        (n.is_finite() && tenths >= 1.0 && n <= 64.0).then_some(Channels(tenths as u16))
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Channels {
    /// `7.1`, `5.1`, `2.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// Whether an audio codec, as Radarr and Sonarr name it, is lossless: TrueHD (with Atmos or
/// without), DTS-HD MA, DTS:X (`DTS-X`), FLAC, ALAC and PCM. DTS-HD HRA, plain DTS, DTS-ES,
/// AC3, EAC3 (Atmos or not), AAC, Opus and the rest are lossy. Case, spaces and punctuation do
/// not matter (`DTS-HD MA`, `dts-hd.ma`, `DTS:X`).
pub fn is_lossless_codec(codec: &str) -> bool {
    let key: String = codec
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    key.contains("TRUEHD")
        || key.contains("DTSHDMA")
        || key.contains("DTSMA")
        || key.contains("DTSX")
        || key.starts_with("FLAC")
        || key.starts_with("ALAC")
        || key.starts_with("PCM")
        || key.starts_with("LPCM")
}

/// A quality as people read it, from the *arr's name (and its resolution when there is no name):
/// `Remux-2160p` → `2160p Remux`, `Bluray-2160p Remux` → `2160p Bluray Remux`, `WEBDL-1080p` →
/// `1080p WEBDL`; a name of another shape (`DVD`, `Raw-HD`, `BR-DISK`) as it is.
pub fn quality_label(name: Option<&str>, resolution: Option<i64>) -> Option<String> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return resolution.filter(|r| *r > 0).map(|r| format!("{r}p"));
    };
    let reordered = name.split_once('-').and_then(|(source, rest)| {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let after = rest.get(digits..)?;
        let suffix = after.strip_prefix('p')?;
        (digits > 0 && !source.is_empty()).then(|| format!("{}p {source}{suffix}", &rest[..digits]))
    });
    Some(reordered.unwrap_or_else(|| name.to_owned()))
}

/// An audio track as people read it: `TrueHD Atmos 7.1`, `AAC`; `None` without a codec.
pub fn audio_label(codec: Option<&str>, channels: Option<Channels>) -> Option<String> {
    let codec = codec.map(str::trim).filter(|c| !c.is_empty())?;
    Some(match channels {
        Some(ch) => format!("{codec} {ch}"),
        None => codec.to_owned(),
    })
}

/// Which of a library's [`Qualities`] a file has. [`QualityId::UNKNOWN`] (the default) is the
/// quality of a file the *arr told nothing about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QualityId(u16);

impl QualityId {
    pub const UNKNOWN: QualityId = QualityId(0);
}

/// Every distinct quality of a library's files, each held once. The first is the unknown
/// quality; a library with more than 65,535 others gives the rest the unknown one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualities {
    list: Vec<Arc<Quality>>,
    index: HashMap<Arc<Quality>, QualityId>,
}

impl Default for Qualities {
    fn default() -> Self {
        let unknown = Arc::new(Quality::default());
        Qualities {
            list: vec![unknown.clone()],
            index: HashMap::from([(unknown, QualityId::UNKNOWN)]),
        }
    }
}

impl Qualities {
    /// The id of `quality`, added to the table when it is new.
    pub fn intern(&mut self, quality: Quality) -> QualityId {
        if let Some(&id) = self.index.get(&quality) {
            return id;
        }
        let Ok(n) = u16::try_from(self.list.len()) else {
            return QualityId::UNKNOWN;
        };
        let quality = Arc::new(quality);
        self.list.push(quality.clone());
        self.index.insert(quality, QualityId(n));
        QualityId(n)
    }

    /// The quality `id` names; the unknown one for an id of another table.
    pub fn get(&self, id: QualityId) -> &Quality {
        self.list
            .get(usize::from(id.0))
            .or(self.list.first())
            .map_or(&UNKNOWN, |q| &**q)
    }

    /// How many distinct qualities it holds, the unknown one included.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Never: it always holds the unknown quality.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

static UNKNOWN: Quality = Quality {
    name: None,
    resolution: None,
    video_resolution: None,
    audio_codec: None,
    audio_channels: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_audio_is_told_from_the_arrs_codec_names() {
        #[rustfmt::skip]
        let cases = [
            ("TrueHD", true), ("TrueHD Atmos", true), ("truehd", true),
            ("DTS-HD MA", true), ("DTS-HD.MA", true), ("DTS-MA", true),
            ("DTS-X", true), ("DTS:X", true), ("DTS-HD MA + DTS:X IMAX", true),
            ("FLAC", true), ("ALAC", true), ("PCM", true), ("LPCM", true), ("pcm_s24le", true),
            ("DTS-HD HRA", false), ("DTS", false), ("DTS-ES", false), ("DTS Express", false),
            ("EAC3 Atmos", false), ("EAC3", false), ("AC3", false), ("AAC", false),
            ("HE-AAC", false), ("Opus", false), ("MP3", false), ("Vorbis", false), ("", false),
        ];
        for (codec, lossless) in cases {
            assert_eq!(is_lossless_codec(codec), lossless, "{codec:?}");
        }
    }

    #[test]
    fn qualities_read_resolution_first() {
        #[rustfmt::skip]
        let cases = [
            (Some("Remux-2160p"), None, Some("2160p Remux")),
            (Some("Bluray-1080p"), Some(1080), Some("1080p Bluray")),
            (Some("Bluray-2160p Remux"), Some(2160), Some("2160p Bluray Remux")),
            (Some("WEBDL-720p"), None, Some("720p WEBDL")),
            (Some("DVD"), Some(480), Some("DVD")),
            (Some("Raw-HD"), Some(1080), Some("Raw-HD")),
            (Some("BR-DISK"), None, Some("BR-DISK")),
            (Some("-1080p"), None, Some("-1080p")),
            (Some("  "), Some(2160), Some("2160p")),
            (None, Some(720), Some("720p")),
            (None, Some(0), None),
            (None, None, None),
        ];
        for (name, resolution, label) in cases {
            assert_eq!(
                quality_label(name, resolution).as_deref(),
                label,
                "{name:?} {resolution:?}"
            );
        }
    }

    #[test]
    fn channels_read_like_the_arrs_write_them() {
        let ch = |n: f64| Channels::from_f64(n).map(|c| c.to_string());
        assert_eq!(ch(7.1).as_deref(), Some("7.1"));
        assert_eq!(ch(5.1).as_deref(), Some("5.1"));
        assert_eq!(ch(2.0).as_deref(), Some("2.0"));
        assert_eq!(ch(0.0), None);
        assert_eq!(ch(-2.0), None);
        assert_eq!(ch(f64::NAN), None);
        assert_eq!(ch(1e9), None);
        assert_eq!(Channels::from_f64(7.1).map(Channels::as_f64), Some(7.1));
        assert_eq!(
            audio_label(Some("TrueHD Atmos"), Channels::from_f64(7.1)).as_deref(),
            Some("TrueHD Atmos 7.1")
        );
        assert_eq!(audio_label(Some("AAC"), None).as_deref(), Some("AAC"));
        assert_eq!(audio_label(None, Channels::from_f64(2.0)), None);
    }

    fn remux() -> Quality {
        Quality {
            name: Some("Remux-2160p".into()),
            resolution: Some(2160),
            video_resolution: Some("3840x2160".into()),
            audio_codec: Some("TrueHD Atmos".into()),
            audio_channels: Channels::from_f64(7.1),
        }
    }

    #[test]
    fn a_quality_is_held_once_and_the_unknown_one_is_first() {
        let mut table = Qualities::default();
        assert_eq!(table.intern(Quality::default()), QualityId::UNKNOWN);
        let a = table.intern(remux());
        let b = table.intern(remux());
        let web = table.intern(Quality {
            name: Some("WEBDL-1080p".into()),
            ..Quality::default()
        });
        assert_eq!(a, b);
        assert_ne!(a, web);
        assert_eq!(table.len(), 3);
        assert_eq!(table.get(a), &remux());
        assert!(table.get(QualityId(999)).is_unknown());
        assert_eq!(remux().lossless(), Some(true));
        assert_eq!(Quality::default().lossless(), None);
        assert_eq!(remux().label().as_deref(), Some("2160p Remux"));
        assert_eq!(remux().audio().as_deref(), Some("TrueHD Atmos 7.1"));
    }

    #[test]
    fn a_full_table_gives_new_qualities_the_unknown_one() {
        let mut table = Qualities::default();
        for n in 1..=u16::MAX {
            let id = table.intern(Quality {
                resolution: Some(n),
                ..Quality::default()
            });
            assert_eq!(id, QualityId(n));
        }
        let late = table.intern(remux());
        assert_eq!(late, QualityId::UNKNOWN);
        assert_eq!(table.len(), 65_536);
    }

    #[test]
    fn a_quality_serializes_to_the_json_fields() {
        let json = serde_json::to_value(remux()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"quality": "Remux-2160p", "resolution": 2160,
                "video_resolution": "3840x2160", "audio_codec": "TrueHD Atmos",
                "audio_channels": 7.1, "lossless": true})
        );
        assert_eq!(
            serde_json::to_value(Quality::default()).unwrap(),
            serde_json::json!({})
        );
    }
}
