package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/admins"
	"github.com/urbackend/urbackend/analytics"
	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/dynschema"
	"github.com/urbackend/urbackend/embedded"
	"github.com/urbackend/urbackend/events"
	"github.com/urbackend/urbackend/files"
	"github.com/urbackend/urbackend/mail"
	"github.com/urbackend/urbackend/mailer"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/secret"
	"github.com/urbackend/urbackend/social"
	"github.com/urbackend/urbackend/webhooks"
)

// App is a started server: database, services and HTTP handler.
type App struct {
	cfg      Config
	logger   *slog.Logger
	embedded *embedded.DB
	pool     *dbpool.Pool
	platform *mongo.Database

	Admins      *admins.Service
	Projects    *projects.Service
	Collections *collections.Service
	Catalog     *catalog.Catalog
	Data        *data.Service
	Auth        *auth.Service
	Mailer      *mailer.Service
	Events      *events.Bus
	Webhooks    *webhooks.Service
	Files       *files.Service

	handler   http.Handler
	publicURL string

	poolStats poolGauge
	// extraMetrics add series to /metrics.
	extraMetrics []func(io.Writer)

	Analytics      *analytics.Recorder
	AnalyticsStore *analytics.Store
	// graphql is the per-project GraphQL handler (set by the router).
	graphql *dynschema.Handler
	stop    context.CancelFunc // stops background work
	bg      sync.WaitGroup
}

// New starts the database (or connects to the configured one), checks the
// master key, prepares the platform database and creates the first admin
// when there is none. The public URL is derived from addr when not
// configured. Every error is one line that names the bad setting.
func New(ctx context.Context, cfg Config, addr net.Addr) (app *App, err error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: cfg.Logger}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()

	uri := cfg.MongoURI
	if uri == "" {
		if err := checkWritableDir(cfg.DataDir); err != nil {
			return nil, err
		}
		db, err := embedded.Start(filepath.Join(cfg.DataDir, "db"), cfg.EmbeddedDBAddr, nil)
		if err != nil {
			return nil, fmt.Errorf("UB_EMBEDDED_DB_ADDR: %w", err)
		}
		a.embedded = db
		uri = db.URI()
		a.logger.Info("embedded database started", "uri", uri, "dir", filepath.Join(cfg.DataDir, "db"))
	}
	key, err := loadMasterKey(cfg.MasterKey, cfg.DataDir, cfg.MongoURI == "")
	if err != nil {
		return nil, err
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}

	a.pool = dbpool.New(cfg.DBTimeout)
	a.pool.Monitor = cfg.CommandMonitor
	a.pool.PoolMonitor = a.poolStats.monitor()
	client, err := a.pool.Client(ctx, uri)
	if err != nil {
		if cfg.MongoURI != "" {
			return nil, fmt.Errorf("UB_MONGODB_URI: %s", dbpool.Redact(err.Error()))
		}
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	a.platform = client.Database(cfg.PlatformDB)
	if err := checkMasterKey(ctx, a.platform, box); err != nil {
		return nil, err
	}

	a.Admins = admins.New(a.platform, box.Derive("admin-token"), admins.Options{TokenTTL: cfg.AdminTokenTTL, BcryptCost: cfg.BcryptCost, Now: cfg.Now})
	a.Projects = projects.New(a.platform, a.pool, box, cfg.Now)
	a.Collections = collections.New(a.platform, a.Projects, cfg.Now)
	a.Projects.SetCollectionStore(a.Collections)
	a.Catalog = catalog.New(a.platform, a.Projects, a.Collections, a.logger, cfg.Now)
	a.Projects.SetInvalidator(invalidator{a})
	a.Collections.SetInvalidator(invalidator{a})
	a.Data = data.New(a.logger, cfg.Now)
	a.Data.Engine = a.pool
	a.publicURL = publicURL(cfg.PublicURL, addr)
	var sender mail.Sender = mail.NewLog(a.logger)
	if cfg.SMTPURL != "" {
		sc, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("UB_SMTP_URL: %v", err)
		}
		sender = mail.NewSMTP(sc, 30*time.Second)
	}
	a.Auth = auth.New(a.platform, sender, box.Derive("otp"), auth.Config{
		AccessTTL:     cfg.AccessTokenTTL,
		RefreshTTL:    cfg.RefreshTokenTTL,
		BcryptCost:    cfg.UserBcryptCost,
		SecureCookies: strings.HasPrefix(a.publicURL, "https://"),
		MailFrom:      cfg.MailFrom,
	}, a.logger, cfg.Now)
	a.Auth.SetSocial(&auth.Social{
		Client:    social.New(cfg.Social, nil, cfg.Now),
		StateKey:  box.Derive("social-state"),
		Secrets:   a.Projects,
		Catalog:   a.Catalog,
		PublicURL: a.publicURL,
	})
	a.Mailer = mailer.New(a.platform, sender, cfg.MailFrom, cfg.Now)
	a.Events = events.New(a.platform, a.logger, events.Options{Now: cfg.Now})
	a.Data.AddEmitter(a.Events)
	a.Auth.AddEmitter(a.Events)
	a.Webhooks = webhooks.New(a.platform, box, a.Events, a.logger, webhooks.Options{
		AllowPrivate:   cfg.WebhookAllowPrivate,
		RetrySchedule:  cfg.WebhookRetrySchedule,
		KeepDeliveries: cfg.WebhookKeepDeliveries,
		Now:            cfg.Now,
	})
	a.Data.AddEmitter(a.Webhooks) // after the bus: it only wakes the dispatcher
	a.Files = files.New(a.platform, a.Catalog, box.Derive("upload-token"), files.Config{
		MaxFileBytes: cfg.MaxFileBytes,
		QuotaBytes:   cfg.StorageQuotaBytes,
		UploadTTL:    cfg.UploadTTL,
	}, a.logger, cfg.Now)
	a.Analytics = analytics.NewRecorder(cfg.Now)
	a.AnalyticsStore = analytics.NewStore(a.platform, a.Analytics, a.logger, cfg.Now)
	for _, ensure := range []func(context.Context) error{a.AnalyticsStore.EnsureIndexes, a.Events.EnsureIndexes, a.Admins.EnsureIndexes, a.Projects.EnsureIndexes, a.Collections.EnsureIndexes, a.Catalog.EnsureIndexes, a.Auth.EnsureIndexes, a.Files.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.Webhooks.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	if err := a.bootstrapAdmin(ctx); err != nil {
		return nil, err
	}
	a.handler = a.router(a.publicURL)
	bg, stop := context.WithCancel(context.Background())
	a.stop = stop
	a.bg.Add(3)
	go func() {
		defer a.bg.Done()
		a.AnalyticsStore.Run(bg)
	}()
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.Events.Run(bg)
	}()
	go func() {
		defer a.bg.Done()
		a.Catalog.Run(bg)
	}()
	go func() {
		defer a.bg.Done()
		a.Auth.Sweep(bg, time.Minute)
	}()
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.Files.Sweep(bg, time.Minute)
	}()
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.Webhooks.Run(bg)
	}()
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.graphql.Run(bg)
	}()
	return a, nil
}

func (a *App) bootstrapAdmin(ctx context.Context) error {
	created, generated, err := a.Admins.Bootstrap(ctx, a.cfg.AdminEmail, a.cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("UB_ADMIN_EMAIL/UB_ADMIN_PASSWORD: %w", err)
	}
	if !created {
		return nil
	}
	email := a.cfg.AdminEmail
	if email == "" {
		email = "admin@urbackend.local"
	}
	if generated == "" {
		a.logger.Info("first admin created", "email", email)
		return nil
	}
	console := a.cfg.Console
	if console == nil {
		console = os.Stdout
	}
	fmt.Fprintf(console, `
================================================================
 urBackend: first start, an admin account was created.

   e-mail:   %s
   password: %s

 This password is shown only once. Log in with the adminLogin
 mutation at /admin/graphql; set UB_ADMIN_EMAIL and
 UB_ADMIN_PASSWORD before the first start to choose your own.
================================================================

`, email, generated)
	return nil
}

// Handler is the HTTP handler of every API.
func (a *App) Handler() http.Handler { return a.handler }

// Ping reports whether the platform database answers.
func (a *App) Ping(ctx context.Context) error {
	return a.platform.Client().Ping(ctx, nil)
}

// Close stops background work, disconnects from MongoDB and stops the
// embedded database. It is safe to call more than once.
func (a *App) Close(ctx context.Context) {
	if a.stop != nil {
		a.stop()
		a.bg.Wait()
	}
	if a.pool != nil {
		if err := a.pool.Close(ctx); err != nil {
			a.logger.Warn("closing database connections", "err", err)
		}
	}
	if a.embedded != nil {
		a.embedded.Close()
	}
}

// Serve serves HTTP on ln until ctx is done, then stops accepting, lets
// in-flight requests finish (up to ShutdownTimeout) and closes the
// databases.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.logger.Info("urBackend is listening", "url", publicURL(a.cfg.PublicURL, ln.Addr()), "admin_graphql", publicURL(a.cfg.PublicURL, ln.Addr())+"/admin/graphql")

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		a.logger.Info("shutting down: finishing in-flight requests", "timeout", a.cfg.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		if err := srv.Shutdown(sctx); err != nil {
			a.logger.Warn("in-flight requests did not finish in time", "err", err)
			srv.Close()
		}
		cancel()
		<-errc
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.Close(cctx)
	a.logger.Info("stopped")
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("UB_DATA_DIR %s cannot be created: %v", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("UB_DATA_DIR %s is not writable: %v", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Listen opens the HTTP listener, with a one-line error naming UB_ADDR.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		return nil, fmt.Errorf("UB_ADDR %s: cannot listen: %v", addr, err)
	}
	return ln, nil
}

// Run listens on cfg.Addr, starts the app and serves until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	ln, err := Listen(cfg.Addr)
	if err != nil {
		return err
	}
	app, err := New(ctx, cfg, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	return app.Serve(ctx, ln)
}
