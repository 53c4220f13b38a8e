// Package rules holds the date and money rules of administrative-penalty
// cases (行政处罚) as pure functions: statutory windows, delivery dates,
// publication, late-payment surcharges, court enforcement, case clocks,
// supervision (督办) reminders, the summary procedure's penalty limits and
// the form of legal provisions (R-STD-2). It does no I/O and keeps no state; every
// function is safe for concurrent use. Rule ids (R-DL-1, R-DEL-3, …) refer to
// shared/domain/enforcement.md §2; the module numbers in brackets there point
// into the procurement specification.
//
// What it does not do: it does not know the holiday calendar (the plugin
// passes a Calendar backed by the host's, which is the authority at run
// time), does not decide workflow transitions, and does not store anything.
//
// Conventions, applied everywhere:
//
//   - Time zone. Dates are calendar days in Shanghai, China Standard Time
//     (CST, UTC+8, no daylight saving since 1991); inputs in any zone are
//     converted first.
//
//   - The day of the triggering event is not counted. 民法典 第二百零一条:
//     "按照年、月、日、时计算期间的，开始的当日不计入，自下一日开始计算。"
//     So "自收到本告知书之日起三个工作日内" received on a Tuesday ends with
//     Friday, the third working day after it.
//
//   - Short periods are working days. 行政处罚法 第八十五条:
//     "本法中“二日”“三日”“五日”“七日”的规定是指工作日，不含法定节假日。"
//     行政强制法 第六十九条: "本法中十日以内期限的规定是指工作日，不含法定节假日。"
//     Working days are those the Calendar says are, so make-up working days
//     (调休上班, e.g. Saturday 2026-10-10) count and public holidays do not.
//
//   - Months. 民法典 第二百零二条:
//     "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日。"
//     (AddMonths.)
//
//   - Deadlines are the end of their last day, 23:59:59.999 CST (民法典
//     第二百零三条: "期间的最后一日的截止时间为二十四时"). The millisecond
//     form survives storage in DATETIME(3) columns without rounding into the
//     next day. Lateness is judged by calendar day, never by sub-second
//     comparison: an act is late when it happens on a day after the
//     deadline's day (Expired).
//
//   - Dates that are days rather than deadlines (a delivery date, the day a
//     decision is published) are returned as the start of that day, 00:00 CST.
//
//   - Natural-day periods are not moved off rest days by default: the case
//     clock of acceptance scenario S4(b) ends on Sunday 2025-06-01, a
//     holiday. For party-facing statutory periods 民法典 第二百零三条
//     ("期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日") applies;
//     RollForward does that, and EnforcementWindow uses it for the 复议 and
//     诉讼 periods.
//
//   - Pauses cover the days [from, to): the day a pause begins does not
//     count, the day the clock resumes does (Clock). The host's clock service
//     (Clocks.EvaluateTrack) differs in two ways: it rolls every natural-day
//     limit off rest days, and a pause from day A resumed on day B leaves out
//     A+1 … B. Pause lengths agree; which working days a pause covers, and
//     natural-day due dates on rest days, can differ. Stored due dates should
//     come from one of the two, not both.
//
//   - Money is int64 fen (分), integer arithmetic only. The surcharge drops
//     any fraction of a fen (truncation), so it never exceeds what the law
//     allows.
//
//   - Errors a user may see are typed (*Error, *LateError), carry a stable
//     machine code usable as an i18n key, and have a Chinese and an English
//     message (Message(locale)); Error() gives both, Chinese first.
package rules
