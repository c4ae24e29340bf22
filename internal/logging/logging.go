// Package logging builds Dropflow's zap logger (console locally, JSON with
// LOG_FORMAT=json) and adapts it to the Temporal SDK's logger interface, so
// that SDK, workflow and activity logs share one format and sink.
package logging

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a logger; format is "console" or "json", level a zap level name.
func New(format, level string) (*zap.Logger, error) {
	var cfg zap.Config
	switch strings.ToLower(format) {
	case "", "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		cfg.DisableStacktrace = true
	case "json":
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "ts"
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	default:
		return nil, fmt.Errorf("LOG_FORMAT=%q: want console or json", format)
	}
	if level != "" {
		lvl, err := zapcore.ParseLevel(level)
		if err != nil {
			return nil, fmt.Errorf("LOG_LEVEL=%q: %w", level, err)
		}
		cfg.Level = zap.NewAtomicLevelAt(lvl)
	}
	l, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	return l, nil
}

// Temporal adapts a zap logger to go.temporal.io/sdk/log.Logger.
type Temporal struct{ z *zap.Logger }

var _ log.Logger = Temporal{}
var _ log.WithLogger = Temporal{}

// NewTemporal wraps z; the SDK adds its own key-values (workflow id, etc.).
func NewTemporal(z *zap.Logger) Temporal { return Temporal{z: z.WithOptions(zap.AddCallerSkip(1))} }

func fields(keyvals []any) []zap.Field {
	out := make([]zap.Field, 0, len(keyvals)/2+1)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			out = append(out, zap.Any("_extra", keyvals[i]))
			break
		}
		k, ok := keyvals[i].(string)
		if !ok {
			k = fmt.Sprint(keyvals[i])
		}
		out = append(out, zap.Any(k, keyvals[i+1]))
	}
	return out
}

// Debug logs at debug level.
func (t Temporal) Debug(msg string, keyvals ...any) { t.z.Debug(msg, fields(keyvals)...) }

// Info logs at info level.
func (t Temporal) Info(msg string, keyvals ...any) { t.z.Info(msg, fields(keyvals)...) }

// Warn logs at warn level.
func (t Temporal) Warn(msg string, keyvals ...any) { t.z.Warn(msg, fields(keyvals)...) }

// Error logs at error level.
func (t Temporal) Error(msg string, keyvals ...any) { t.z.Error(msg, fields(keyvals)...) }

// With returns a logger with the key-values added.
func (t Temporal) With(keyvals ...any) log.Logger { return Temporal{z: t.z.With(fields(keyvals)...)} }
