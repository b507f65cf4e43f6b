// Package docs serves Halyard's OpenAPI document and Swagger UI over it:
// GET /docs (→ /docs/), the UI at /docs/, its assets under /docs/, and the
// document at /docs/swagger.json.
//
// The document is kept beside the handlers as openapi.yaml (written by
// hand: every route, its parameters, bodies, statuses, schemas and
// examples, and the WebSocket protocols in the tag descriptions).
// `go generate ./docs` converts it to openapi.json, embedded here and
// served byte for byte, and to the repository's top-level swagger.json, the
// same bytes. cmd/halyard's OpenAPI test validates every live answer of the
// server against it and walks echo's route table so no route goes
// undocumented.
//
// Swagger UI comes from echo-swagger (github.com/swaggo/echo-swagger), which
// embeds swagger-ui-dist through github.com/swaggo/files/v2: no npm, no
// CDN, nothing fetched at run time.
package docs

//go:generate go run ./gen

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
	echoSwagger "github.com/swaggo/echo-swagger"
	"github.com/swaggo/swag"
)

// Document is the OpenAPI document, the bytes served at /docs/swagger.json
// and kept in the repository's top-level swagger.json. Do not modify it.
//
//go:embed openapi.json
var Document []byte

// DocumentPath is where the document is served.
const DocumentPath = "/docs/swagger.json"

// instanceName registers the document with swag, so echo-swagger's own
// /docs/doc.json and /docs/doc.yaml serve it too (instead of failing).
const instanceName = "halyard"

type swagDoc struct{}

func (swagDoc) ReadDoc() string { return string(Document) }

func init() { swag.Register(instanceName, swagDoc{}) }

// Register adds the /docs routes to e.
func Register(e *echo.Echo) {
	ui := echoSwagger.EchoWrapHandler(func(c *echoSwagger.Config) {
		c.URLs = []string{DocumentPath}
		c.InstanceName = instanceName
		c.DocExpansion = "list"
		c.DeepLinking = true
	})
	e.GET("/docs", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/docs/")
	})
	// echo-swagger would redirect /docs/ to /docs//index.html; serve the
	// page at /docs/ itself (its asset links are relative).
	e.GET("/docs/", func(c echo.Context) error {
		req := c.Request().Clone(c.Request().Context())
		req.RequestURI = "/docs/index.html"
		c.SetRequest(req)
		return ui(c)
	})
	e.GET(DocumentPath, serveDocument)
	e.GET("/docs/*", ui)
}

// serveDocument answers GET /docs/swagger.json.
func serveDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json; charset=utf-8", Document)
}
