// IEP dates and periods: the academic year's period (August 15 to August 14), an IEP's meeting,
// effective and annual review dates (rules and defaults), and calendar arithmetic on "YYYY-MM-DD".
// rules.ts re-exports what IEP checks and requests use.

/**
 * An IEP period: from the effective date to the annual review date (both inclusive). Without IEP
 * dates (IEPs from before them), one year from August 15 of the academic year's first year.
 */
export interface IepPeriod {
  academicYear: string;
  /** YYYY-MM-DD, inclusive: the effective date. */
  startDate: string;
  /** YYYY-MM-DD, inclusive: the annual review date. */
  endDate: string;
  /** YYYY-MM-DD: when the IEP team meets; absent for an academic-year period. */
  meetingDate?: string;
}

/** The three dates of an IEP ("YYYY-MM-DD"). */
export interface IepDates {
  meetingDate: string;
  effectiveDate: string;
  annualReviewDate: string;
}

const ACADEMIC_YEAR = /^(\d{4})-(\d{4})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const PERIOD_START_MONTH_DAY = "08-15";
const PERIOD_END_MONTH_DAY = "08-14";
/** August, as a 0-based month: the first month of a new academic year. */
const ACADEMIC_YEAR_FIRST_MONTH = 7;

/** The IEP period of an academic year "YYYY-YYYY" (consecutive years); throws when malformed. */
export function iepPeriod(academicYear: string): IepPeriod {
  const match = ACADEMIC_YEAR.exec(academicYear);
  const first = Number(match?.[1]);
  const second = Number(match?.[2]);
  if (!match || second !== first + 1 || first < 1900) {
    throw new RangeError(`Malformed academic year "${academicYear}": expected "YYYY-YYYY" with consecutive years`);
  }
  return {
    academicYear,
    startDate: `${match[1]}-${PERIOD_START_MONTH_DAY}`,
    endDate: `${match[2]}-${PERIOD_END_MONTH_DAY}`,
  };
}

/** The academic year a date falls in (UTC): August–December → "Y-(Y+1)", January–July → "(Y-1)-Y". */
export function defaultAcademicYear(today: Date): string {
  if (Number.isNaN(today.getTime())) throw new RangeError("Invalid date");
  const year = today.getUTCFullYear();
  const first = today.getUTCMonth() >= ACADEMIC_YEAR_FIRST_MONTH ? year : year - 1;
  return `${first}-${first + 1}`;
}

/** The IEP period of an IEP's dates: effective date to annual review date. */
export function periodOfDates(academicYear: string, dates: IepDates): IepPeriod {
  return { academicYear, startDate: dates.effectiveDate, endDate: dates.annualReviewDate, meetingDate: dates.meetingDate };
}

/** The IEP period of a generation or IEP row: its effective to annual review dates, or (rows from before IEP dates) its academic year's. */
export function periodOfRow(row: {
  academic_year: string; meeting_date: string | null; effective_date: string | null; annual_review_date: string | null;
}): IepPeriod {
  const { meeting_date: meetingDate, effective_date: effectiveDate, annual_review_date: annualReviewDate } = row;
  if (meetingDate && effectiveDate && annualReviewDate) return periodOfDates(row.academic_year, { meetingDate, effectiveDate, annualReviewDate });
  return iepPeriod(row.academic_year);
}

/** English month names, January first. */
export const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"] as const;

/** "2027-08-14" → "August 14, 2027" (other text unchanged). */
export function longDate(isoDate: string): string {
  const [year, month, day] = isoDate.split("-").map(Number);
  const monthName = MONTH_NAMES[(month ?? 0) - 1];
  return monthName && day ? `${monthName} ${day}, ${year}` : isoDate;
}

/** "YYYY-MM-DD" plus whole days (negative: minus). */
export function addDays(isoDate: string, days: number): string {
  const { year, month, day } = parseIsoDate(isoDate);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** "YYYY-MM-DD" one calendar year later; 29 February → 28 February, as Postgres adds `interval '1 year'`. */
export function addOneYear(isoDate: string): string {
  const { year, month, day } = parseIsoDate(isoDate);
  const next = new Date(Date.UTC(year + 1, month - 1, day));
  if (next.getUTCMonth() !== month - 1) next.setUTCDate(0);
  return next.toISOString().slice(0, 10);
}

/**
 * What is wrong with an IEP's dates, one entry per field: the effective date is not before the
 * meeting (and, with `academicYear`, falls in that year's period: the IEP is that year's), and the
 * annual review comes after the effective date and at most one year after it.
 */
export function iepDateProblems(dates: IepDates, academicYear?: string): { field: keyof IepDates; message: string }[] {
  const problems: { field: keyof IepDates; message: string }[] = [];
  const year = academicYear ? iepPeriod(academicYear) : undefined;
  if (dates.effectiveDate < dates.meetingDate) {
    problems.push({ field: "effectiveDate", message: `must not be before the meeting date (${dates.meetingDate})` });
  } else if (year && (dates.effectiveDate < year.startDate || dates.effectiveDate > year.endDate)) {
    problems.push({ field: "effectiveDate", message: `must fall in the academic year ${year.academicYear} (${year.startDate} to ${year.endDate})` });
  }
  if (dates.annualReviewDate <= dates.effectiveDate) {
    problems.push({ field: "annualReviewDate", message: `must be after the effective date (${dates.effectiveDate})` });
  } else if (dates.annualReviewDate > addOneYear(dates.effectiveDate)) {
    problems.push({ field: "annualReviewDate", message: `must be within one year of the effective date (at the latest ${addOneYear(dates.effectiveDate)})` });
  }
  return problems;
}

/**
 * An IEP's dates, the missing ones derived: the meeting is today when today lies in the academic
 * year's period, else the period's first day (or the effective date when that comes earlier); the
 * IEP takes effect at the meeting; the annual review is the day before the effective date's first
 * anniversary. The result may still break iepDateProblems (given dates are kept as given).
 */
export function resolveIepDates(given: Partial<IepDates>, academicYear: string, today: string): IepDates {
  const period = iepPeriod(academicYear);
  const base = today >= period.startDate && today <= period.endDate ? today : period.startDate;
  const meetingDate = given.meetingDate ?? (given.effectiveDate && given.effectiveDate < base ? given.effectiveDate : base);
  const effectiveDate = given.effectiveDate ?? meetingDate;
  const annualReviewDate = given.annualReviewDate ?? addDays(addOneYear(effectiveDate), -1);
  return { meetingDate, effectiveDate, annualReviewDate };
}

/** Completed years of age on a date; both dates "YYYY-MM-DD". A 29 February birthday counts from 1 March in common years. */
export function ageOn(dateOfBirth: string, onDate: string): number {
  const birth = parseIsoDate(dateOfBirth);
  const on = parseIsoDate(onDate);
  const hadBirthday = on.month > birth.month || (on.month === birth.month && on.day >= birth.day);
  return on.year - birth.year - (hadBirthday ? 0 : 1);
}

export function parseIsoDate(value: string): { year: number; month: number; day: number } {
  const match = ISO_DATE.exec(value);
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (!match || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new RangeError(`Malformed date "${value}": expected YYYY-MM-DD`);
  }
  return { year, month, day };
}
