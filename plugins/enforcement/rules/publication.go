package rules

import "time"

// PublicationWorkingDays: "公示时限：处罚决定签发完成第7个工作日自动公示"
// (R-DL-1). A bureau that configures another value calls AddWorkingDays.
const PublicationWorkingDays = 7

// PublicationDate is the day (00:00 CST) on which a decision issued
// (签发完成) at issuedAt is published automatically: the 7th working day
// after the day of issue, that day not counted. Issued on Friday 2025-09-26,
// it is published on Monday 2025-10-13 (make-up working days 09-28 and 10-11
// count). An approved 暂缓公示 (deferred) means no automatic publication:
// ok is false and the date is zero.
func PublicationDate(cal Calendar, issuedAt time.Time, deferred bool) (day time.Time, ok bool) {
	if deferred {
		return time.Time{}, false
	}
	return StartOfDay(AddWorkingDays(cal, issuedAt, PublicationWorkingDays)), true
}
