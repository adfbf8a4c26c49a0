//! Distances on the globe for location search: a bounding box that an index can use, then the
//! exact great-circle distance.

use crate::{Error, Result};

/// Mean Earth radius in metres (IUGG).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Checks a point: finite degrees inside their ranges.
pub fn check_point(lat: f64, lon: f64) -> Result<()> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(Error::invalid("location.lat", "a latitude in degrees, -90 to 90"));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(Error::invalid("location.lon", "a longitude in degrees, -180 to 180"));
    }
    Ok(())
}

/// The great-circle distance between two points in metres (haversine).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// A latitude/longitude box holding every point within a distance of a centre. When it would cross
/// the antimeridian or reach a pole, the longitude range is the whole circle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

impl BoundingBox {
    /// The box around `(lat, lon)` holding every point within `radius_m` (a little larger).
    pub fn around(lat: f64, lon: f64, radius_m: f64) -> Self {
        // J. P. Matuschek, "Finding points within a distance of a latitude/longitude": the widest
        // longitude of the circle is asin(sin(r) / cos(lat)), reached off the centre's parallel.
        let r = (radius_m / EARTH_RADIUS_M) * 1.0001;
        let (min_lat, max_lat) = ((lat.to_radians() - r).to_degrees(), (lat.to_radians() + r).to_degrees());
        let whole = Self { min_lat: min_lat.max(-90.0), max_lat: max_lat.min(90.0), min_lon: -180.0, max_lon: 180.0 };
        if min_lat <= -90.0 || max_lat >= 90.0 {
            return whole;
        }
        let ratio = r.sin() / lat.to_radians().cos();
        if !(0.0..1.0).contains(&ratio) {
            return whole;
        }
        let dl = ratio.asin().to_degrees();
        let (min_lon, max_lon) = (lon - dl, lon + dl);
        if min_lon < -180.0 || max_lon > 180.0 {
            // Across the antimeridian: the whole circle of longitudes, a wider but simple prefilter.
            return whole;
        }
        Self { min_lat, max_lat, min_lon, max_lon }
    }

    /// Whether a point lies in the box.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.min_lat..=self.max_lat).contains(&lat) && (self.min_lon..=self.max_lon).contains(&lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jakarta_to_bandung_is_about_120_km() {
        let d = distance_m(-6.2088, 106.8456, -6.9175, 107.6191);
        assert!((115_000.0..125_000.0).contains(&d), "{d}");
    }

    #[test]
    fn the_box_holds_every_point_within_the_radius() {
        // Points on a circle of the radius around centres near the equator, the poles and the antimeridian.
        for (lat, lon) in [(0.0, 0.0), (-6.2, 106.8), (60.0, 179.9), (89.5, 0.0), (-70.0, -179.5)] {
            for r in [100.0, 10_000.0, 500_000.0] {
                let bb = BoundingBox::around(lat, lon, r);
                for step in 0..72 {
                    let bearing = f64::from(step) * 5.0_f64.to_radians();
                    let (p, d) = (f64::to_radians(lat), r / EARTH_RADIUS_M);
                    let lat2 = (p.sin() * d.cos() + p.cos() * d.sin() * bearing.cos()).asin();
                    let lon2 =
                        lon.to_radians() + (bearing.sin() * d.sin() * p.cos()).atan2(d.cos() - p.sin() * lat2.sin());
                    let (lat2, mut lon2) = (lat2.to_degrees(), lon2.to_degrees());
                    if lon2 > 180.0 {
                        lon2 -= 360.0;
                    } else if lon2 < -180.0 {
                        lon2 += 360.0;
                    }
                    assert!(bb.contains(lat2, lon2), "{lat},{lon} r={r}: {lat2},{lon2} outside {bb:?}");
                }
            }
        }
    }
}
