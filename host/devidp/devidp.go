// Package devidp is a development OpenID Connect provider built into the
// host, so that enterprise (一网通办) and public (随申办) sign-in can be used
// and tested end to end without the real providers. It is OFF unless the
// portal is started with --dev-idp, says so on every page it shows, and must
// never be enabled in production: anyone can sign in as anyone.
//
// It implements the authorization-code flow: discovery, JWKS, an authorize
// page to pick a test identity, and a token endpoint issuing RS256-signed ID
// tokens with the claims the portal expects (uscc for enterprises, id_number
// for persons).
package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"
)

// Client is a relying party registered with the provider.
type Client struct {
	ID, Secret, RedirectURI string
}

// Persona is a test identity offered on the authorize page.
type Persona struct {
	Key, Name, USCC, IDNumber string
}

// Personas are the identities the page offers: valid codes, plausible names.
var Personas = []Persona{
	{Key: "ent-huawei", Name: "华为技术有限公司", USCC: "914403001922038216"},
	{Key: "ent-demo", Name: "上海浦东示例科技有限公司", USCC: "91310115MA1K4PTX8J"},
	{Key: "person-demo", Name: "王小明", IDNumber: "11010519491231002X"},
	// The legal representative of ent-demo and the agent who files for it:
	// the signers of its applications (docs/registration.md).
	{Key: "person-legalrep", Name: "张明", IDNumber: "310115198503120012"},
	{Key: "person-agent", Name: "李娜", IDNumber: "310115199202050035"},
}

// Provider is the development identity provider.
type Provider struct {
	issuer  string
	clients map[string]Client
	key     *rsa.PrivateKey
	keyID   string
	signer  jose.Signer
	now     func() time.Time

	mu    sync.Mutex
	codes map[string]grant
}

type grant struct {
	client, redirect, nonce string
	persona                 Persona
	expires                 time.Time
}

// New returns a provider whose issuer is issuer (the URL its discovery
// document is served under, e.g. http://127.0.0.1:8080/dev-idp).
func New(issuer string, clients ...Client) (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	kid := randomHex(8)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	p := &Provider{issuer: issuer, clients: map[string]Client{}, key: key, keyID: kid, signer: signer, now: time.Now, codes: map[string]grant{}}
	for _, c := range clients {
		p.clients[c.ID] = c
	}
	return p, nil
}

// Mount serves the provider under path (the issuer's path, e.g. /dev-idp).
func (p *Provider) Mount(e *gin.Engine, path string) {
	g := e.Group(path)
	g.GET("/.well-known/openid-configuration", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{
			"issuer": p.issuer, "authorization_endpoint": p.issuer + "/authorize", "token_endpoint": p.issuer + "/token",
			"jwks_uri": p.issuer + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported": []string{"openid", "profile"}, "token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		})
	})
	g.GET("/jwks", func(c *gin.Context) {
		c.JSON(http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.keyID, Algorithm: "RS256", Use: "sig"}}})
	})
	g.GET("/authorize", p.authorizePage)
	g.POST("/authorize", p.authorize)
	g.POST("/token", p.token)
}

var page = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>开发用身份提供方</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:2em auto">
<p style="background:#fde2e2;padding:.6em;border:1px solid #e66"><strong>开发用身份提供方，仅供测试。</strong>
Development identity provider for testing only: anyone can sign in as anyone.</p>
<h1>选择测试身份 · Choose a test identity</h1>
<form method="post">
{{range .Personas}}<p><label><input type="radio" name="persona" value="{{.Key}}" required>
{{.Name}} {{if .USCC}}（企业 · 统一社会信用代码 {{.USCC}}）{{else}}（个人）{{end}}</label></p>{{end}}
{{range $k, $v := .Query}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<p><button type="submit">登录 · Sign in</button></p></form></body></html>`))

func (p *Provider) authorizePage(c *gin.Context) {
	q := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "nonce", "response_type", "scope"} {
		q[k] = c.Query(k)
	}
	if _, err := p.client(q["client_id"], q["redirect_uri"]); err != nil || q["response_type"] != "code" {
		c.String(http.StatusBadRequest, "unknown client, redirect_uri or response_type")
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(c.Writer, map[string]any{"Personas": Personas, "Query": q})
}

func (p *Provider) client(id, redirect string) (Client, error) {
	cl, ok := p.clients[id]
	if !ok || cl.RedirectURI != redirect {
		return Client{}, http.ErrNoLocation
	}
	return cl, nil
}

func (p *Provider) authorize(c *gin.Context) {
	cl, err := p.client(c.PostForm("client_id"), c.PostForm("redirect_uri"))
	if err != nil {
		c.String(http.StatusBadRequest, "unknown client or redirect_uri")
		return
	}
	var persona *Persona
	for i := range Personas {
		if Personas[i].Key == c.PostForm("persona") {
			persona = &Personas[i]
		}
	}
	if persona == nil {
		c.String(http.StatusBadRequest, "unknown persona")
		return
	}
	code := randomHex(16)
	p.mu.Lock()
	p.codes[code] = grant{client: cl.ID, redirect: cl.RedirectURI, nonce: c.PostForm("nonce"), persona: *persona, expires: p.now().Add(time.Minute)}
	p.mu.Unlock()
	u, _ := url.Parse(cl.RedirectURI)
	q := u.Query()
	q.Set("code", code)
	q.Set("state", c.PostForm("state"))
	u.RawQuery = q.Encode()
	c.Redirect(http.StatusFound, u.String())
}

func (p *Provider) token(c *gin.Context) {
	id, secret, ok := c.Request.BasicAuth()
	if !ok {
		id, secret = c.PostForm("client_id"), c.PostForm("client_secret")
	}
	cl, known := p.clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(cl.Secret)) != 1 {
		c.JSON(http.StatusUnauthorized, gin.H{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.codes[c.PostForm("code")]
	delete(p.codes, c.PostForm("code")) // single use
	p.mu.Unlock()
	if c.PostForm("grant_type") != "authorization_code" || !found || g.client != id || g.redirect != c.PostForm("redirect_uri") || p.now().After(g.expires) {
		c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_grant"})
		return
	}
	now := p.now()
	claims := map[string]any{
		"iss": p.issuer, "sub": g.persona.Key, "aud": id, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"name": g.persona.Name,
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if g.persona.USCC != "" {
		claims["uscc"] = g.persona.USCC
	}
	if g.persona.IDNumber != "" {
		claims["id_number"] = g.persona.IDNumber
	}
	payload, _ := json.Marshal(claims)
	jws, err := p.signer.Sign(payload)
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": "server_error"})
		return
	}
	idToken, _ := jws.CompactSerialize()
	c.JSON(http.StatusOK, gin.H{"access_token": randomHex(16), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
