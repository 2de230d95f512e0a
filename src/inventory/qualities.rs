//! The qualities of a pass's files: read from the *arrs' file records and held once each, in
//! the table the library keeps, while the lists of several *arrs stream in at once.

use std::sync::{Arc, Mutex, PoisonError};

use crate::clients::media::{MediaInfo, QualityModel};
use crate::library::{Channels, Qualities, Quality, QualityId};

/// A [`Qualities`] that the fetches of a pass fill together. Cheap to clone; every clone fills
/// the same table.
#[derive(Debug, Clone, Default)]
pub struct QualityTable(Arc<Mutex<Qualities>>);

impl QualityTable {
    /// The id of the quality an *arr gave a file.
    pub fn intern(&self, quality: Option<QualityModel>, media: Option<MediaInfo>) -> QualityId {
        let quality = quality_of(quality, media);
        if quality.is_unknown() {
            return QualityId::UNKNOWN;
        }
        // A panic while interning leaves the table whole (one push, one insert): keep using it.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .intern(quality)
    }

    /// The table, for the library.
    pub fn into_qualities(self) -> Qualities {
        match Arc::try_unwrap(self.0) {
            Ok(table) => table.into_inner().unwrap_or_else(PoisonError::into_inner),
            // A fetch still holds a clone (it cannot add to the library any more): copy.
            Err(shared) => shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

/// A file's quality from its *arr record; blank or odd parts are left out (a quality named
/// `Unknown`, a resolution of 0, an empty codec).
pub fn quality_of(quality: Option<QualityModel>, media: Option<MediaInfo>) -> Quality {
    let q = quality.and_then(|q| q.quality).unwrap_or_default();
    let m = media.unwrap_or_default();
    Quality {
        name: text(q.name).filter(|n| !n.eq_ignore_ascii_case("unknown")),
        resolution: q
            .resolution
            .and_then(|r| u16::try_from(r).ok())
            .filter(|&r| r > 0),
        video_resolution: text(m.resolution),
        audio_codec: text(m.audio_codec),
        audio_channels: m.audio_channels.and_then(Channels::from_f64),
    }
}

fn text(s: Option<String>) -> Option<Box<str>> {
    let s = s?;
    let trimmed = s.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == s.len() {
        Some(s.into_boxed_str())
    } else {
        Some(trimmed.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::media::QualityResource;

    #[test]
    fn blank_and_odd_parts_are_left_out() {
        let model = |name: &str, resolution: i64| {
            Some(QualityModel {
                quality: Some(QualityResource {
                    name: Some(name.to_owned()),
                    resolution: Some(resolution),
                }),
            })
        };
        let media = |codec: &str, channels: f64, resolution: &str| {
            Some(MediaInfo {
                audio_codec: Some(codec.to_owned()),
                audio_channels: Some(channels),
                resolution: Some(resolution.to_owned()),
            })
        };
        let q = quality_of(
            model(" Remux-2160p ", 2160),
            media("TrueHD Atmos", 7.1, "3840x2160"),
        );
        assert_eq!(q.name.as_deref(), Some("Remux-2160p"));
        assert_eq!(q.resolution, Some(2160));
        assert_eq!(q.video_resolution.as_deref(), Some("3840x2160"));
        assert_eq!(q.audio_codec.as_deref(), Some("TrueHD Atmos"));
        assert_eq!(
            q.audio_channels.map(|c| c.to_string()).as_deref(),
            Some("7.1")
        );
        assert!(quality_of(model("Unknown", 0), media("", 0.0, " ")).is_unknown());
        assert!(quality_of(model("x", 70_000), None).resolution.is_none());
        assert!(quality_of(None, None).is_unknown());
    }

    #[test]
    fn every_clone_fills_one_table() {
        let table = QualityTable::default();
        let other = table.clone();
        let media = |codec: &str| {
            Some(MediaInfo {
                audio_codec: Some(codec.to_owned()),
                ..MediaInfo::default()
            })
        };
        let a = table.intern(None, media("AAC"));
        let b = other.intern(None, media("AAC"));
        let c = other.intern(None, media("FLAC"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(table.intern(None, None), QualityId::UNKNOWN);
        let qualities = table.into_qualities();
        assert_eq!(qualities.len(), 3);
        assert_eq!(qualities.get(c).audio_codec.as_deref(), Some("FLAC"));
        drop(other);
    }
}
