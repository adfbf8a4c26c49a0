//! GPX through quick-xml, which never expands entities on its own. We refuse any DTD outright
//! (no billion laughs, no external entities), accept only the five predefined entities and
//! character references, cap the nesting depth and the number of points.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::exif::find_nonce;
use super::{ParseLimits, TrackMetadata, TrackPoint};
use crate::{Error, ReasonCode, Result};

const MAX_TEXT: usize = 4096;

fn refused(code: ReasonCode, detail: impl Into<String>) -> Error {
    Error::refused(code, detail)
}

fn bad_point(detail: impl Into<String>) -> Error {
    refused(ReasonCode::EvidenceTrackBadPoint, detail)
}

/// Which text the parser is collecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collect {
    None,
    Ele,
    Time,
    MetaText,
}

pub(super) fn parse(bytes: &[u8], limits: &ParseLimits) -> Result<TrackMetadata> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| refused(ReasonCode::EvidenceXmlMalformed, format!("GPX is not UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;

    let mut track = TrackMetadata { creator: None, nonce: None, points: Vec::new() };
    // Element names from the root down, as local names.
    let mut path: Vec<String> = Vec::new();
    let mut point: Option<TrackPoint> = None;
    let mut collect = Collect::None;
    let mut buf = String::new();
    let mut saw_root = false;

    loop {
        let event = reader.read_event().map_err(|e| {
            refused(ReasonCode::EvidenceXmlMalformed, format!("GPX at byte {}: {e}", reader.error_position()))
        })?;
        match event {
            Event::DocType(_) => {
                return Err(refused(
                    ReasonCode::EvidenceXmlDoctype,
                    "GPX with a document type declaration (entities are not accepted)",
                ));
            }
            Event::Start(e) | Event::Empty(e) if path.len() as u32 >= limits.xml_max_depth => {
                let _ = e;
                return Err(refused(
                    ReasonCode::EvidenceXmlTooDeep,
                    format!("XML nested deeper than {}", limits.xml_max_depth),
                ));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_owned();
                if path.is_empty() {
                    if saw_root || name != "gpx" {
                        return Err(refused(ReasonCode::EvidenceNotGpx, format!("root element <{name}>")));
                    }
                    saw_root = true;
                    track.creator = attribute(e, "creator")?.map(|c| c.chars().take(256).collect());
                }
                if name == "trkpt" && parent_is(&path, "trkseg") {
                    if track.points.len() >= limits.track_max_points {
                        return Err(refused(
                            ReasonCode::EvidenceTrackTooManyPoints,
                            format!("more than {} track points", limits.track_max_points),
                        ));
                    }
                    let p = TrackPoint {
                        lat: coordinate(e, "lat", 90.0)?,
                        lon: coordinate(e, "lon", 180.0)?,
                        ele: None,
                        time: None,
                    };
                    if empty {
                        track.points.push(p);
                    } else {
                        point = Some(p);
                    }
                }
                if !empty {
                    collect = match name.as_str() {
                        "ele" if point.is_some() && parent_is(&path, "trkpt") => Collect::Ele,
                        "time" if point.is_some() && parent_is(&path, "trkpt") => Collect::Time,
                        "desc" | "keywords" if parent_is(&path, "metadata") => Collect::MetaText,
                        _ => Collect::None,
                    };
                    buf.clear();
                    path.push(name);
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                match collect {
                    Collect::Ele => {
                        if let Some(p) = point.as_mut() {
                            let ele: f64 =
                                buf.trim().parse().map_err(|_| bad_point(format!("elevation `{}`", short(&buf))))?;
                            if !ele.is_finite() || ele.abs() > 100_000.0 {
                                return Err(bad_point(format!("elevation {ele}")));
                            }
                            p.ele = Some(ele);
                        }
                    }
                    Collect::Time => {
                        if let Some(p) = point.as_mut() {
                            let t = OffsetDateTime::parse(buf.trim(), &Rfc3339)
                                .ok()
                                .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
                                .ok_or_else(|| bad_point(format!("time `{}`", short(&buf))))?;
                            p.time = Some(t);
                        }
                    }
                    Collect::MetaText => {
                        if track.nonce.is_none() {
                            track.nonce = find_nonce(buf.as_bytes());
                        }
                    }
                    Collect::None => {}
                }
                collect = Collect::None;
                if name == "trkpt"
                    && let Some(p) = point.take()
                {
                    track.points.push(p);
                }
            }
            Event::Text(t) if collect != Collect::None => push_text(&mut buf, &t.xml10_content())?,
            Event::CData(t) if collect != Collect::None => push_text(&mut buf, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    match r.into_inner().as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        other => {
                            return Err(refused(
                                ReasonCode::EvidenceXmlMalformed,
                                format!("undeclared entity &{};", short(other)),
                            ));
                        }
                    }
                };
                let Some(ch) = ch else {
                    return Err(refused(ReasonCode::EvidenceXmlMalformed, "invalid character reference"));
                };
                if collect != Collect::None {
                    push_text(&mut buf, ch.encode_utf8(&mut [0; 4]))?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(refused(ReasonCode::EvidenceNotGpx, "no root element"));
    }
    if !path.is_empty() {
        return Err(refused(ReasonCode::EvidenceXmlMalformed, "unclosed elements at end of file"));
    }
    Ok(track)
}

fn parent_is(path: &[String], name: &str) -> bool {
    path.last().is_some_and(|p| p == name)
}

fn push_text(buf: &mut String, s: &str) -> Result<()> {
    if buf.len() + s.len() > MAX_TEXT {
        return Err(refused(ReasonCode::EvidenceXmlMalformed, format!("text longer than {MAX_TEXT} bytes")));
    }
    buf.push_str(s);
    Ok(())
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>> {
    for a in e.attributes() {
        let a = a.map_err(|err| refused(ReasonCode::EvidenceXmlMalformed, format!("attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| refused(ReasonCode::EvidenceXmlMalformed, format!("attribute {name}: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn coordinate(e: &BytesStart<'_>, name: &str, bound: f64) -> Result<f64> {
    let raw = attribute(e, name)?.ok_or_else(|| bad_point(format!("track point without {name}")))?;
    let v: f64 = raw.trim().parse().map_err(|_| bad_point(format!("{name} `{}`", short(&raw))))?;
    if !v.is_finite() || v.abs() > bound {
        return Err(bad_point(format!("{name} {v} out of range")));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<TrackMetadata> {
        parse(s.as_bytes(), &ParseLimits::default())
    }

    fn code(s: &str) -> ReasonCode {
        parse_str(s).unwrap_err().reason()
    }

    #[test]
    fn reads_points_creator_and_nonce() {
        let t = parse_str(
            r#"<?xml version="1.0"?>
<gpx version="1.1" creator="Jejak &amp; Co" xmlns="http://www.topografix.com/GPX/1/1">
 <metadata><desc>trip jejak-nonce:N0nce_123456</desc></metadata>
 <trk><trkseg>
  <trkpt lat="-6.2" lon="106.8"><ele>12.5</ele><time>2026-03-01T03:00:00Z</time></trkpt>
  <trkpt lat="-6.2001" lon="106.8001"/>
 </trkseg></trk>
</gpx>"#,
        )
        .unwrap();
        assert_eq!(t.creator.as_deref(), Some("Jejak & Co"));
        assert_eq!(t.nonce.as_deref(), Some("N0nce_123456"));
        assert_eq!(t.points.len(), 2);
        assert_eq!(t.points[0].ele, Some(12.5));
        assert_eq!(t.points[0].time.unwrap().unix_timestamp(), 1_772_334_000);
        assert_eq!(t.points[1].time, None);
    }

    #[test]
    fn hostile_xml_is_refused_with_its_code() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><gpx>&lol2;</gpx>"#;
        assert_eq!(code(laughs), ReasonCode::EvidenceXmlDoctype);
        assert_eq!(code("<gpx>&xxe;</gpx>"), ReasonCode::EvidenceXmlMalformed);
        let deep = format!("<gpx>{}{}</gpx>", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert_eq!(code(&deep), ReasonCode::EvidenceXmlTooDeep);
        assert_eq!(code("<kml></kml>"), ReasonCode::EvidenceNotGpx);
        assert_eq!(code("<gpx><trk>"), ReasonCode::EvidenceXmlMalformed);
        assert_eq!(code("<gpx></trk>"), ReasonCode::EvidenceXmlMalformed);
        assert_eq!(
            code(r#"<gpx><trk><trkseg><trkpt lat="91" lon="0"/></trkseg></trk></gpx>"#),
            ReasonCode::EvidenceTrackBadPoint
        );
        assert_eq!(
            code(r#"<gpx><trk><trkseg><trkpt lat="NaN" lon="0"/></trkseg></trk></gpx>"#),
            ReasonCode::EvidenceTrackBadPoint
        );
    }

    #[test]
    fn a_point_time_beyond_the_calendar_in_utc_is_a_bad_point_not_a_panic() {
        let doc = r#"<gpx><trk><trkseg><trkpt lat="1" lon="1"><time>9999-12-31T23:59:59-01:00</time></trkpt></trkseg></trk></gpx>"#;
        assert_eq!(code(doc), ReasonCode::EvidenceTrackBadPoint);
    }

    #[test]
    fn point_count_is_capped() {
        let limits = ParseLimits { track_max_points: 3, ..ParseLimits::default() };
        let pts = r#"<trkpt lat="1" lon="1"/>"#.repeat(4);
        let doc = format!("<gpx><trk><trkseg>{pts}</trkseg></trk></gpx>");
        let err = parse(doc.as_bytes(), &limits).unwrap_err();
        assert_eq!(err.reason(), ReasonCode::EvidenceTrackTooManyPoints);
    }
}
