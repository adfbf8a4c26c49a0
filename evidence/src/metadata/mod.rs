//! Metadata extracted from evidence files: EXIF of photos, points of GPX tracks, and the
//! metadata hash that goes into an evidence leaf.

mod container;
mod exif;
mod gpx;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Digest, Error, MediaType, ReasonCode, Result, digest::sha256};

pub use self::exif::NONCE_PREFIX;

/// Bounds on parsing, so a hostile file costs at most linear time and bounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ParseLimits {
    /// Largest declared width or height of a photo.
    pub max_side: u32,
    /// Largest declared pixel count of a photo (default 120 megapixels).
    pub max_pixels: u64,
    /// Most bytes an image decoder may allocate for a perceptual hash (default 48 MiB). JPEGs
    /// are decoded downscaled and PNGs row by row, so this bounds a whole decoded image only
    /// for WebP, interlaced PNG and the coefficients of a progressive JPEG.
    pub max_decode_alloc: u64,
    /// Deepest XML element nesting in a track.
    pub xml_max_depth: u32,
    /// Most points in one track.
    pub track_max_points: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_side: 30_000,
            max_pixels: 120_000_000,
            max_decode_alloc: 48 << 20,
            xml_max_depth: 32,
            track_max_points: 2_000_000,
        }
    }
}

/// Metadata of one evidence file, in the form that is stored and hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metadata {
    /// A photo's EXIF.
    Photo(PhotoMetadata),
    /// A GPS track.
    Track(TrackMetadata),
}

impl Metadata {
    /// The capture nonce the file carries, if any.
    pub fn nonce(&self) -> Option<&str> {
        match self {
            Metadata::Photo(p) => p.nonce.as_deref(),
            Metadata::Track(t) => t.nonce.as_deref(),
        }
    }

    /// The software the file names (EXIF Software, GPX creator).
    pub fn software(&self) -> Option<&str> {
        match self {
            Metadata::Photo(p) => p.software.as_deref(),
            Metadata::Track(t) => t.creator.as_deref(),
        }
    }
}

/// What a photo's EXIF says about where, when and with what it was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoMetadata {
    /// The sniffed format.
    pub media_type: MediaType,
    /// Pixel dimensions as the container declares them (not known for HEIF).
    pub dimensions: Option<(u32, u32)>,
    /// DateTimeOriginal with SubSecTimeOriginal and OffsetTimeOriginal.
    pub captured: Option<CaptureTime>,
    /// The GPS fix written at capture.
    pub gps: Option<GpsFix>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Software that wrote the file last.
    pub software: Option<String>,
    /// Capture nonce found in ImageDescription or UserComment (`jejak-nonce:<nonce>`).
    pub nonce: Option<String>,
}

/// The EXIF capture time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureTime {
    /// Local wall-clock time as written, `YYYY-MM-DDTHH:MM:SS[.fraction]`.
    pub local: String,
    /// UTC offset from OffsetTimeOriginal, `+HH:MM`.
    pub offset: Option<String>,
    /// The instant, known only when the offset is.
    #[serde(with = "time::serde::rfc3339::option")]
    pub instant: Option<OffsetDateTime>,
}

/// A GPS fix from EXIF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Metres above sea level.
    pub altitude_m: Option<f64>,
    /// GPSDateStamp + GPSTimeStamp (UTC).
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// GPSHPositioningError: horizontal accuracy in metres.
    pub h_accuracy_m: Option<f64>,
}

/// A GPS track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackMetadata {
    /// The GPX `creator` attribute.
    pub creator: Option<String>,
    /// Capture nonce found in the GPX metadata `desc` or `keywords` (`jejak-nonce:<nonce>`).
    pub nonce: Option<String>,
    /// Track points of every segment, in document order.
    pub points: Vec<TrackPoint>,
}

/// One GPX track point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
    /// Metres above sea level.
    pub ele: Option<f64>,
    /// UTC time of the fix.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
}

/// Validates the file's structure and extracts its metadata.
///
/// Refuses truncated or malformed containers, images declaring dimensions beyond `limits`, and
/// hostile XML (DTDs, entities, deep nesting), each with its [`ReasonCode`].
pub fn extract_metadata(media_type: MediaType, bytes: &[u8], limits: &ParseLimits) -> Result<Metadata> {
    let info = container::inspect(media_type, bytes)?;
    if let Some((w, h)) = info.dimensions {
        check_dimensions(w, h, limits)?;
    }
    match media_type {
        MediaType::Gpx => gpx::parse(bytes, limits).map(Metadata::Track),
        _ => exif::parse(media_type, bytes, info.dimensions).map(Metadata::Photo),
    }
}

pub(crate) fn check_dimensions(w: u32, h: u32, limits: &ParseLimits) -> Result<()> {
    if w > limits.max_side || h > limits.max_side || u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(Error::refused(
            ReasonCode::EvidenceImageTooLarge,
            format!("{w}x{h} pixels exceeds the limits ({} per side, {} pixels)", limits.max_side, limits.max_pixels),
        ));
    }
    Ok(())
}

/// SHA-256 of the RFC 8785 canonical JSON of `metadata`: the metadata hash of an evidence leaf.
pub fn metadata_hash(metadata: &Metadata) -> Result<Digest> {
    Ok(sha256(&jejak_core::jcs::to_vec(metadata)?))
}
