// Package mailer is the operation behind POST /api/mail/send
// (contract/REST.md §7.1): a project's server sends one e-mail, written
// directly or from a template, rendered with {{variables}}.
package mailer

import (
	"context"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/mail"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
)

// Template is a built-in e-mail template.
type Template struct {
	ID, Key, Name string
	Subject, Text string
	HTML          string
}

// Templates are the global templates every project can use by name.
var Templates = []Template{
	{
		ID: "000000000000000000000001", Key: "welcome", Name: "Welcome",
		Subject: "Welcome to {{appName}}",
		Text:    "Hi {{name}},\n\nwelcome to {{appName}}!\n",
		HTML:    "<p>Hi {{name}},</p><p>welcome to {{appName}}!</p>",
	},
	{
		ID: "000000000000000000000002", Key: "notification", Name: "Notification",
		Subject: "{{title}}",
		Text:    "{{message}}\n",
		HTML:    "<p>{{message}}</p>",
	},
}

// Service sends project e-mail.
type Service struct {
	sender mail.Sender
	usage  *mongo.Collection
	from   string
	// MonthlyLimit caps e-mails per project per UTC month (0: none).
	MonthlyLimit int64
	now          func() time.Time
}

// New returns a Service counting usage in platformDB.
func New(platformDB *mongo.Database, sender mail.Sender, defaultFrom string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if defaultFrom == "" {
		defaultFrom = "urBackend <no-reply@urbackend.local>"
	}
	return &Service{sender: sender, usage: platformDB.Collection("mail_usage"), from: defaultFrom, now: now}
}

// Result is what a sent e-mail reports.
type Result struct {
	ID           *string         `json:"id"`
	Provider     string          `json:"provider"`
	MonthlyUsage int64           `json:"monthlyUsage"`
	MonthlyLimit int64           `json:"monthlyLimit"`
	TemplateUsed *map[string]any `json:"templateUsed,omitempty"`
}

var (
	emailRE = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	hexID   = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)
)

// Send validates a request body (§7.1), renders and sends it. Secret key
// only. Errors: Forbidden, Invalid, RateLimited, Unavailable.
func (s *Service) Send(ctx context.Context, c *principal.Caller, body bson.D) (*Result, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return nil, err
	}
	get := func(k string) (any, bool) {
		for _, e := range body {
			if e.Key == k {
				return e.Value, true
			}
		}
		return nil, false
	}
	optString := func(k string) (string, error) {
		v, ok := get(k)
		if !ok || v == nil {
			return "", nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", errs.New(errs.Invalid, "Invalid input: expected string, received %s", kind(v))
		}
		return s, nil
	}
	toV, ok := get("to")
	to, isStr := toV.(string)
	if !ok || !isStr {
		return nil, errs.New(errs.Invalid, "Invalid input: expected string, received %s", kind(toV))
	}
	to = strings.TrimSpace(to)
	if !emailRE.MatchString(to) || strings.ContainsAny(to, "\r\n,;<>") {
		return nil, errs.New(errs.Invalid, "Invalid recipient email format")
	}
	subject, err := optString("subject")
	if err != nil {
		return nil, err
	}
	subject = strings.TrimSpace(subject)
	if len([]rune(subject)) > 200 {
		return nil, errs.New(errs.Invalid, "Subject is too long")
	}
	html, err := optString("html")
	if err != nil {
		return nil, err
	}
	text, err := optString("text")
	if err != nil {
		return nil, err
	}
	templateID, err := optString("templateId")
	if err != nil {
		return nil, err
	}
	if templateID != "" && !hexID.MatchString(templateID) {
		return nil, errs.New(errs.Invalid, "Invalid template id")
	}
	templateName, err := optString("templateName")
	if err != nil {
		return nil, err
	}
	vars := map[string]any{}
	if v, ok := get("variables"); ok && v != nil {
		d, isDoc := v.(bson.D)
		if !isDoc {
			return nil, errs.New(errs.Invalid, "Invalid input: expected object, received %s", kind(v))
		}
		vars = toMap(d)
	}
	templated := templateID != "" || templateName != ""
	if templateID != "" && templateName != "" {
		return nil, errs.New(errs.Invalid, "Provide only one of templateId or templateName.")
	}
	if !templated && (subject == "" || (html == "" && text == "")) {
		return nil, errs.New(errs.Invalid, "Provide either (subject + html/text) or a templateId/templateName.")
	}
	res := &Result{Provider: "default", MonthlyLimit: -1}
	if templated {
		t, ok := find(templateID, templateName)
		if !ok {
			return nil, errs.New(errs.Invalid, "Template not found.")
		}
		if subject == "" {
			subject = t.Subject
		}
		if html == "" && text == "" {
			html, text = t.HTML, t.Text
		}
		used := map[string]any{"id": t.ID, "scope": "global", "key": t.Key, "name": t.Name}
		res.TemplateUsed = &used
	}
	if subject == "" {
		return nil, errs.New(errs.Invalid, "Subject is required.")
	}
	if html == "" && text == "" {
		return nil, errs.New(errs.Invalid, "Provide at least one of html or text content.")
	}
	msg := mail.Message{
		From:    c.Snapshot.Project.MailFrom,
		To:      to,
		Subject: strings.TrimSpace(mail.RenderText(subject, vars)),
		Text:    mail.RenderText(text, vars),
		HTML:    mail.RenderHTML(html, vars),
	}
	if msg.From == "" {
		msg.From = s.from
	}
	if msg.Subject == "" {
		return nil, errs.New(errs.Invalid, "Subject is required.")
	}
	if strings.TrimSpace(msg.Text) == "" && strings.TrimSpace(msg.HTML) == "" {
		return nil, errs.New(errs.Invalid, "Provide at least one of html or text content.")
	}
	n, err := s.reserve(ctx, c.Snapshot.Project.ID, 1)
	if err != nil {
		return nil, err
	}
	if err := s.sender.Send(ctx, msg); err != nil {
		_, _ = s.reserve(context.WithoutCancel(ctx), c.Snapshot.Project.ID, -1)
		return nil, errs.Wrap(errs.Unavailable, err, "Mail service unavailable.")
	}
	res.MonthlyUsage = n
	if s.MonthlyLimit > 0 {
		res.MonthlyLimit = s.MonthlyLimit
	}
	return res, nil
}

// reserve adds delta to this month's count and returns it; over the limit
// the reservation is undone. Errors: RateLimited.
func (s *Service) reserve(ctx context.Context, project bson.ObjectID, delta int64) (int64, error) {
	id := project.Hex() + ":" + s.now().UTC().Format("2006-01")
	var doc struct {
		N int64 `bson:"n"`
	}
	err := s.usage.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: delta}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "Failed to count mail usage.")
	}
	if delta > 0 && s.MonthlyLimit > 0 && doc.N > s.MonthlyLimit {
		_, _ = s.usage.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: -delta}}}})
		return 0, errs.New(errs.RateLimited, "Monthly mail limit exceeded.")
	}
	return doc.N, nil
}

func find(id, name string) (Template, bool) {
	for _, t := range Templates {
		if (id != "" && t.ID == id) || (name != "" && (strings.EqualFold(t.Key, name) || strings.EqualFold(t.Name, name))) {
			return t, true
		}
	}
	return Template{}, false
}

func toMap(d bson.D) map[string]any {
	m := make(map[string]any, len(d))
	for _, e := range d {
		if sub, ok := e.Value.(bson.D); ok {
			m[e.Key] = toMap(sub)
			continue
		}
		m[e.Key] = e.Value
	}
	return m
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "undefined"
	case string:
		return "string"
	case bool:
		return "boolean"
	case bson.D:
		return "object"
	case []any, bson.A:
		return "array"
	}
	return "number"
}
