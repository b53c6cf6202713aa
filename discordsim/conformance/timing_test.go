package conformance

import (
	"os"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
)

func TestTiming(t *testing.T) {
	t0 := time.Now()
	raw, _ := os.ReadFile(os.Getenv("DISCORD_OPENAPI_SPEC"))
	spec, err := prepareSpec(raw)
	if err != nil { t.Fatal(err) }
	t1 := time.Now()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil { t.Fatal(err) }
	t2 := time.Now()
	model, err := doc.BuildV3Model()
	if err != nil { t.Fatal(err) }
	t3 := time.Now()
	_ = validator.NewValidatorFromV3Model(&model.Model, config.WithBodyDecoder("multipart/form-data", content.DecoderFunc(decodeMultipart)))
	t4 := time.Now()
	t.Logf("prepare %v newdoc %v build %v validator %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3))
}
