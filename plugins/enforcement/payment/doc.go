// Package payment is the enforcement plugin's adapter to the city's unified
// public payment platform (统一公共支付平台, requirements C10 and C17: R-PAY-1 …
// R-PAY-9, R-PAY-NT-1 … R-PAY-NT-5, R-PAY-UP-1). Fines are collected through
// it; money is always int64 fen (分), never floating point.
//
// # The adapter
//
// The plugin codes against Gateway:
//
//   - Pay (支付接口（线上）): an order for a business serial number (业务流水号),
//     answered with the pay URL / QR payload and ExpiresAt = CreatedAt + 15
//     min (R-PAY-2, "支付15分钟内有效，超时重新支付"). A serial number obtains
//     one payment code only (R-PAY-NT-1): repeating Pay with the same serial,
//     case and amount answers the same order while it is payable; anything
//     else (another amount or case, or the order expired, cancelled or paid)
//     is ErrSerialUsed, whose *APIError names the order holding the serial.
//     Paying again after expiry therefore takes a new serial number.
//   - ScanPay (支付接口（用户被扫）): the payer's barcode is charged at once.
//   - Cancel (订单撤销接口): only an unpaid order; a paid one is
//     ErrAlreadyPaid, refund it instead (R-PAY-3).
//   - Refund (退款接口): partial refunds up to the paid amount
//     (ErrOverRefund), idempotent by the caller's refund number. The
//     signature takes a refundNo in addition to the amount and reason: the
//     idempotency key has to come from the caller.
//   - Query (查询接口) and AwaitResult, the check "10分钟一次，共3次" (R-PAY-4)
//     for an order whose notification did not come.
//   - BillFile (文件下载接口): the CST day's paid and refunded orders as CSV,
//     read with ParseBillFile, for reconciliation (核销, R-PAY-5).
//   - ParseNotification (消息通知接口（异步通知）): verifies and decodes the
//     platform's notice that an order was paid.
//
// Receiver is the notification endpoint built on it: verify, record once in
// the plugin's Store (idempotent by order number), answer 200 "SUCCESS" also
// for a duplicate so that the platform stops retrying, 400 for a forged,
// stale or malformed notice, 500 when the store failed so that the platform
// retries (R-PAY-NT-2: every 5 minutes, 3 times). A plugin's Store over its
// database can use sdk.Once with the id "payment:paid:"+OrderNo, noting in
// fn that it ran (duplicate = it did not).
//
// # Signatures
//
// Both directions are signed with HMAC-SM3 (HMAC over the SM3 hash, GB/T
// 32905) under the shared key the platform issues to the unit
// (接口对接申请签名密钥key / ACCESS_KEY); a symmetric key because that is what
// the platform hands out and rotates monthly, and SM3 because the city's
// systems use the national algorithms. The signature travels in X-Pay-*
// headers (the portal host forwards those to plugins, but not
// Authorization) over
//
//	HMAC-SM3\n<app id>\n<key id>\n<unix seconds>\n<nonce>\n<target>\n<hex SM3(body)>
//
// where target is "REQUEST <method> <path>" for the unit's requests (path
// relative to the base URL), "RESPONSE <method> <path>" for the platform's
// answers, and "NOTIFY" for notifications, so one kind cannot be replayed as
// another. A message is refused when a header is missing (ErrMalformed), the
// app id, key id or MAC does not match (ErrBadSignature), or its timestamp is
// more than 10 minutes from now (ErrStale, replay). The platform re-signs
// each retry, so a retry 15 minutes later is fresh. A replay within the 10
// minutes is harmless: recording is idempotent. Should the platform's
// interface document require SM2 signatures instead, only sign and verify
// change; Gateway does not.
//
// Key material comes in through a KeyProvider and is never logged: Key's
// String, GoString, LogValue and MarshalText show its id only, and errors
// name key ids, never secrets. The key is rotated "每个月1号凌晨0至1点"
// (R-PAY-NT-5): the provider answers the current key for signing and the
// current and previous keys for verification, each message names its key
// (X-Pay-Key-Id), so messages signed with either key are accepted during the
// rotation. KeyRing is the in-memory provider (Rotate, DropPrevious). The
// platform answers a request with the key that signed it, so the unit's
// calls keep working while the platform has switched and the unit not yet;
// a notification sent in that gap is signed with the new key and refused
// until the unit has it: its retries may bridge the gap, otherwise Query,
// AwaitResult and the bill file reconcile the order.
//
// # What is real and what is simulated
//
// Real: Client, the Gateway over HTTP that production uses; the signing and
// verification; Receiver; the validation of orders; the bill file format
// and its parser. Simulated: Sandbox, an in-process fake of the platform
// serving the same signed HTTP interface as an http.Handler, so it runs on
// httptest in tests and inside the portal for demos. It keeps orders in a
// mutex-protected map, expires them after 15 minutes on its injectable
// clock, plays the payer (Simulate, the cashier page GET /cashier/{no} or
// POST /sandbox/simulate with {"order_no","outcome":"PAID"|"FAILED"}),
// then posts the signed notification to the order's NotifyURL, retrying on
// a non-2xx answer (NotifyAttempts deliveries in all, NotifyInterval apart:
// 3 and 5 minutes by default), and can deliver a notification again
// (Redeliver, POST /sandbox/redeliver) because the real platform may. Its
// barcode check accepts WeChat, Alipay and UnionPay code formats only. Its
// payer endpoints are unauthenticated: never mount it in production.
//
// The wire format (paths under /api/v1, JSON field names, the canonical
// string, the CSV columns) is this package's own: the platform's interface
// document (1288) was not available. When it is, Client and the signing
// code are adapted to it and the Sandbox follows; the Gateway and the
// plugin's code stay as they are.
//
// # Wiring the real platform
//
// A deployment configures, e.g. from the plugin's settings and a secret
// store: the platform's base URL (https), the unit's app id, and a
// KeyProvider over the secret store that holds the current and the previous
// ACCESS_KEY; after 01:00 on the 1st the new key is stored as current and the
// old one kept as previous until the next rotation.
//
//	gw, err := payment.NewClient(payment.ClientConfig{
//		BaseURL: settings["payment.base_url"], AppID: settings["payment.app_id"], Keys: keys,
//	})
//	mux.Handle("POST /payment/notify", payment.Receiver{Gateway: gw, Store: store, Log: env.Log})
//
// Each Order's NotifyURL is the public URL of that route (declared with the
// anonymous audience in plugin.yaml). For a demo, NewSandbox with the same
// app id and keys is mounted in the portal and BaseURL points at it.
//
// Not covered here: the mini-program payment interface, the bill upload and
// bill-processing-result interfaces, the key application interface (the key
// arrives out of band), the non-tax system's payment codes and 电子缴款书
// (R-PAY-6, R-PAY-NT-3/4), centralised remittance (R-PAY-7), instalments
// (R-PAY-9), and the checks that belong to the plugin's case logic (the
// notice previewed before paying, R-PAY-1; no order without 备案, R-PAY-8).
package payment
