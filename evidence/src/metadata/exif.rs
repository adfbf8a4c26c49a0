//! EXIF through kamadak-exif, which bounds its own reads by the input and limits IFD count and
//! revisits; we only ever hand it an in-memory file already capped by the size limits.

use std::io::Cursor;

use exif::{DateTime, Exif, Field, In, Tag, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::{CaptureTime, GpsFix, PhotoMetadata};
use crate::{Error, MediaType, ReasonCode, Result};

/// The marker a capture app writes before the server-issued nonce, in EXIF ImageDescription or
/// UserComment, or in GPX `<metadata><desc>`/`<keywords>`: `jejak-nonce:<nonce>`.
pub const NONCE_PREFIX: &str = "jejak-nonce:";

/// Longest text field kept, in characters; maker strings are short and anything longer is noise.
const MAX_TEXT: usize = 256;

pub(super) fn parse(media_type: MediaType, bytes: &[u8], dims: Option<(u32, u32)>) -> Result<PhotoMetadata> {
    let exif = read(bytes)?;
    let mut meta = PhotoMetadata {
        media_type,
        dimensions: dims,
        captured: None,
        gps: None,
        make: None,
        model: None,
        software: None,
        nonce: None,
    };
    let Some(exif) = exif else { return Ok(meta) };
    meta.captured = capture_time(&exif);
    meta.gps = gps(&exif);
    meta.make = text(&exif, Tag::Make);
    meta.model = text(&exif, Tag::Model);
    meta.software = text(&exif, Tag::Software);
    meta.nonce = [Tag::ImageDescription, Tag::UserComment].into_iter().filter_map(|t| field(&exif, t)).find_map(|f| {
        match &f.value {
            Value::Ascii(parts) => parts.iter().find_map(|p| find_nonce(p)),
            Value::Undefined(bytes, _) => find_nonce(bytes),
            _ => None,
        }
    });
    Ok(meta)
}

fn read(bytes: &[u8]) -> Result<Option<Exif>> {
    let reader = {
        let mut r = exif::Reader::new();
        // One broken entry (often a maker note) must not hide the time and position.
        r.continue_on_error(true);
        r
    };
    match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => Ok(Some(exif)),
        Err(exif::Error::PartialResult(partial)) => Ok(Some(partial.into_inner().0)),
        Err(exif::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(Error::refused(ReasonCode::EvidenceMalformed, format!("EXIF: {e}"))),
    }
}

fn field(exif: &Exif, tag: Tag) -> Option<&Field> {
    exif.get_field(tag, In::PRIMARY)
}

fn ascii(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &field(exif, tag)?.value {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

fn text(exif: &Exif, tag: Tag) -> Option<String> {
    let raw = ascii(exif, tag)?;
    let s: String = String::from_utf8_lossy(raw)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    (!s.is_empty()).then_some(s)
}

fn rationals(exif: &Exif, tag: Tag) -> Option<Vec<f64>> {
    match &field(exif, tag)?.value {
        Value::Rational(v) => {
            let out: Vec<f64> = v.iter().map(|r| r.to_f64()).collect();
            out.iter().all(|x| x.is_finite()).then_some(out)
        }
        _ => None,
    }
}

/// Finds `jejak-nonce:<token>` in raw bytes; the token is 8 to 128 URL-safe characters.
pub(super) fn find_nonce(bytes: &[u8]) -> Option<String> {
    let prefix = NONCE_PREFIX.as_bytes();
    let at = bytes.windows(prefix.len()).position(|w| w == prefix)? + prefix.len();
    let token: Vec<u8> = bytes[at..]
        .iter()
        .copied()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .take(129)
        .collect();
    (8..=128).contains(&token.len()).then(|| String::from_utf8(token).expect("ascii"))
}

fn capture_time(exif: &Exif) -> Option<CaptureTime> {
    let mut dt = DateTime::from_ascii(ascii(exif, Tag::DateTimeOriginal)?).ok()?;
    if let Some(sub) = ascii(exif, Tag::SubSecTimeOriginal) {
        let _ = dt.parse_subsec(sub.trim_ascii());
    }
    let offset = ascii(exif, Tag::OffsetTimeOriginal)
        .and_then(|o| dt.parse_offset(o).ok())
        .and(dt.offset)
        .and_then(|m| UtcOffset::from_whole_seconds(i32::from(m) * 60).ok());
    let date = Date::from_calendar_date(i32::from(dt.year), Month::try_from(dt.month).ok()?, dt.day).ok()?;
    let nanos = dt.nanosecond.unwrap_or(0);
    let clock = Time::from_hms_nano(dt.hour, dt.minute, dt.second, nanos).ok()?;
    let local = PrimitiveDateTime::new(date, clock);
    let mut local_text =
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second);
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        local_text.push('.');
        local_text.push_str(frac.trim_end_matches('0'));
    }
    Some(CaptureTime {
        local: local_text,
        offset: offset.map(|o| {
            let m = o.whole_minutes();
            format!("{}{:02}:{:02}", if m < 0 { '-' } else { '+' }, m.abs() / 60, m.abs() % 60)
        }),
        // A local time that is past year 9999 in UTC (9999-12-31 23:00 at -12:00) has no instant.
        instant: offset.and_then(|o| local.assume_offset(o).checked_to_offset(UtcOffset::UTC)),
    })
}

fn gps(exif: &Exif) -> Option<GpsFix> {
    let lat = dms(&rationals(exif, Tag::GPSLatitude)?)?;
    let lon = dms(&rationals(exif, Tag::GPSLongitude)?)?;
    let lat = match ascii(exif, Tag::GPSLatitudeRef)?.first()? {
        b'N' => lat,
        b'S' => -lat,
        _ => return None,
    };
    let lon = match ascii(exif, Tag::GPSLongitudeRef)?.first()? {
        b'E' => lon,
        b'W' => -lon,
        _ => return None,
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let altitude_m = rationals(exif, Tag::GPSAltitude).and_then(|v| v.first().copied()).map(|a| {
        let below = matches!(
            field(exif, Tag::GPSAltitudeRef).map(|f| &f.value),
            Some(Value::Byte(b)) if b.first() == Some(&1)
        );
        if below { -a } else { a }
    });
    let h_accuracy_m = rationals(exif, Tag::GPSHPositioningError).and_then(|v| v.first().copied());
    Some(GpsFix { latitude: lat, longitude: lon, altitude_m, time: gps_time(exif), h_accuracy_m })
}

fn dms(v: &[f64]) -> Option<f64> {
    match v {
        [d, m, s] => Some(d + m / 60.0 + s / 3600.0),
        [d, m] => Some(d + m / 60.0),
        [d] => Some(*d),
        _ => None,
    }
}

fn gps_time(exif: &Exif) -> Option<OffsetDateTime> {
    let date = ascii(exif, Tag::GPSDateStamp)?;
    let date = std::str::from_utf8(date).ok()?;
    let mut parts = date.trim_end_matches('\0').split(':');
    let (y, m, d) = (parts.next()?.parse().ok()?, parts.next()?.parse::<u8>().ok()?, parts.next()?.parse().ok()?);
    let date = Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()?;
    let hms = rationals(exif, Tag::GPSTimeStamp)?;
    let [h, mi, s] = hms[..] else { return None };
    if !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&mi) || !(0.0..61.0).contains(&s) {
        return None;
    }
    let nanos = ((s.fract()) * 1e9).round() as u32;
    let clock = Time::from_hms_nano(h as u8, mi as u8, (s.trunc() as u8).min(59), nanos.min(999_999_999)).ok()?;
    Some(PrimitiveDateTime::new(date, clock).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_token_bounds() {
        assert_eq!(find_nonce(b"x jejak-nonce:abcDEF12_- y").as_deref(), Some("abcDEF12_-"));
        assert_eq!(find_nonce(b"jejak-nonce:short"), None);
        assert_eq!(find_nonce(b"no marker here"), None);
        let long = format!("jejak-nonce:{}", "a".repeat(200));
        assert_eq!(find_nonce(long.as_bytes()), None);
    }

    fn exif_with(date_time: &str, offset: &str) -> Exif {
        let ascii =
            |tag, s: &str| Field { tag, ifd_num: In::PRIMARY, value: Value::Ascii(vec![s.as_bytes().to_vec()]) };
        let mut w = exif::experimental::Writer::new();
        let fields = [ascii(Tag::DateTimeOriginal, date_time), ascii(Tag::OffsetTimeOriginal, offset)];
        for f in &fields {
            w.push_field(f);
        }
        let mut tiff = Cursor::new(Vec::new());
        w.write(&mut tiff, false).unwrap();
        exif::Reader::new().read_raw(tiff.into_inner()).unwrap()
    }

    /// A local capture time that is past year 9999 once moved to UTC: no instant, not a panic.
    #[test]
    fn a_capture_time_beyond_the_calendar_in_utc_has_no_instant() {
        let t = capture_time(&exif_with("9999:12:31 23:00:00", "-12:00")).unwrap();
        assert_eq!((t.local.as_str(), t.offset.as_deref(), t.instant), ("9999-12-31T23:00:00", Some("-12:00"), None));
        let t = capture_time(&exif_with("2026:03:01 10:00:00", "+07:00")).unwrap();
        assert_eq!(t.instant.unwrap().unix_timestamp(), 1_772_334_000);
    }
}
