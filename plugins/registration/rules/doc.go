// Package rules validates an establishment (设立) or change (变更) application
// of a company against the New Company Law adaptations (落实新《公司法》),
// cluster A, modules 1–27, of the registration requirements
// (shared/domain/registration-1.md §2.A and §3; the source specification
// wins where the digest is vague). It is pure: no I/O, no clock (the
// application's filing day is the only "today"), standard library and
// sdk/idcode only.
//
// [Validate] returns every violation, never only the first; each carries the
// rule id, the path of the field and a message in zh-CN and en. One function
// per rule:
//
//	A-4       company type in the dictionary
//	A-1 R2    legacy (存量) values only from an existing enterprise that has not filed the change;
//	          a new company is never legacy; 执行董事 as legal representative only when legacy
//	A-1 [2]   the legal representative is the director executing company affairs (董事长, 董事)
//	          or the manager (Company Law art. 10), and is a main member in that position
//	A-1 R1    the appointment method (产生方式) applies to the position and company type
//	          ([AppointmentMethods], also for the form to hide the others)
//	A-2 [1]   main members' positions in the dictionary
//	A-2 R4    with a board: three or more directors and one chairman (选择设董事会的…应当有董事长);
//	          without: one director, no chairman; 执行董事 counted, from legacy enterprises only
//	A-2 R5    supervisory board: three or more, employee representatives ≥ 1/3; otherwise one
//	          supervisor (legacy LLC: one or two); none with an audit committee in the board;
//	          none with all shareholders' consent in an LLC only
//	A-3 R8    one or more shareholders/promoters: the "JSC needs ≥ 2 promoters" rule is removed
//	A-4 R11   no individual business (个体工商户) as shareholder or promoter, by kind or USCC "92…"
//	A-3 R7    each instalment has an amount and a time; instalments sum to the subscribed amount
//	A-3 [1]   LLC: unpaid instalments due within five years of establishment (art. 47); an LLC
//	          established before 2024-07-01 by 2032-06-30 (State Council transition rule);
//	          LLC registered capital = sum of the subscriptions (art. 47)
//	A-1/2/3 ID  document type fits the person; resident ID (GB 11643) and USCC (GB 32100) checked
//	A-7 R13   an equity transferor is a registered shareholder
//	A-18 R17  a 合资/合作 company filing main members changes its type and highest authority too
//	A-25 R22  a capital reduction is filed after its announcement period, on a live announcement
//
// Where the spec and the brief differ, the spec is followed:
//   - R10 removes the one-person company (一人有限公司) checks; none is made.
//   - R8 only removes the "≥ 2 promoters" rule; the spec states no upper bound
//     and no domicile rule for promoters (Company Law art. 92: 1–200, half
//     domiciled in China), so neither is checked.
//   - The spec gives no director or supervisor numbers, no audit-committee
//     rule, no five-year term and no legacy transition; those come from the
//     Company Law (2023 revision) and the State Council's 2024 registered
//     capital rules, cited on each function.
//
// Not expressed, and why:
//   - R3 (national dictionary codes on reporting), R6 (listed-JSC position
//     boxes in the generated form), the contribution-method dictionary
//     (module 3), modules 8–10 (forms, material lists, guidance): reporting and
//     documents, not validation; the national dictionaries are not in the spec.
//   - R9 (contribution info consistent with the change items): the spec gives
//     no rule.
//   - R12 (only modified or new members upload ID and e-sign): decides who is
//     asked to sign, not whether the application is valid.
//   - R14–R16, R18–R21, R23 (announcements, court revocation and removal,
//     masking, objections, outbound investment, blacklists): other processes
//     on other data.
//   - R17's branches (分公司) are not modelled, and the resolution materials
//     kept in the transition are a material-list matter.
//   - Company Law rules outside the spec, not checked: JSC promoters pay in
//     full before establishment (art. 98); directors and senior managers may
//     not be supervisors (art. 76, 130); a JSC audit committee has three or
//     more members (art. 121); employee directors in an LLC of 300 or more
//     employees (art. 68: no employee count in the data); the "small company"
//     condition of a single director or supervisor (art. 75, 83: no size data);
//     LLC shareholders at most 50 (art. 42).
package rules
