/**
 * Sunrise and sunset for a place and a calendar day, from the standard "sunrise equation"
 * (mean solar noon, the sun's mean anomaly and equation of the centre, its ecliptic longitude
 * and declination, then the hour angle at which its upper edge meets the horizon, −0.833° for
 * refraction and the sun's radius). Good to about a minute away from the polar circles, which
 * is as fine as a device timer goes. Pure arithmetic: no clock, no time zone.
 */

const RAD = Math.PI / 180;
/** Julian date of 1970-01-01T00:00Z, and of the J2000 epoch. */
const JD_UNIX_EPOCH = 2440587.5;
const JD_2000 = 2451545;
const DAY_MS = 86_400_000;
/** Obliquity of the ecliptic, degrees. */
const OBLIQUITY = 23.4397;
/** Altitude of the sun's centre at sunrise/sunset: refraction plus half its diameter. */
const HORIZON = -0.833;

export type SunDay =
  | { kind: "normal"; sunrise: number; sunset: number }
  /** The sun never sets that day, or never rises. */
  | { kind: "polar-day" }
  | { kind: "polar-night" };

/**
 * Sunrise and sunset (epoch milliseconds) of local calendar day `day` (days since
 * 1970-01-01 in the place's own calendar) at `latitude` (north positive) and `longitude`
 * (east positive), in degrees.
 */
export function sunDay(day: number, latitude: number, longitude: number): SunDay {
  // Days from J2000 to noon of that day, moved to the place's mean solar noon.
  const meanNoon = day + JD_UNIX_EPOCH + 0.5 - JD_2000 - longitude / 360;
  const anomaly = mod360(357.5291 + 0.98560028 * meanNoon);
  const m = anomaly * RAD;
  const centre = 1.9148 * Math.sin(m) + 0.02 * Math.sin(2 * m) + 0.0003 * Math.sin(3 * m);
  const eclipticLongitude = mod360(anomaly + centre + 180 + 102.9372) * RAD;
  const transit = JD_2000 + meanNoon + 0.0053 * Math.sin(m) - 0.0069 * Math.sin(2 * eclipticLongitude);
  const sinDeclination = Math.sin(eclipticLongitude) * Math.sin(OBLIQUITY * RAD);
  const cosDeclination = Math.cos(Math.asin(sinDeclination));
  const phi = latitude * RAD;
  const cosHourAngle = (Math.sin(HORIZON * RAD) - Math.sin(phi) * sinDeclination) / (Math.cos(phi) * cosDeclination);
  if (cosHourAngle < -1) return { kind: "polar-day" };
  if (cosHourAngle > 1) return { kind: "polar-night" };
  const halfDay = Math.acos(cosHourAngle) / RAD / 360;
  const toMs = (jd: number): number => Math.round((jd - JD_UNIX_EPOCH) * DAY_MS);
  return { kind: "normal", sunrise: toMs(transit - halfDay), sunset: toMs(transit + halfDay) };
}

function mod360(x: number): number {
  return ((x % 360) + 360) % 360;
}
