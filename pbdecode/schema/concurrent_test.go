package schema

import (
	"path/filepath"
	"sync"
	"testing"
)

// Reflection may add files while sinks decode: run with -race.
func TestConcurrentAddAndDecode(t *testing.T) {
	fds, err := ReadProtoset(filepath.Join("testdata", "seed.binpb"))
	if err != nil {
		t.Fatal(err)
	}
	r := loadKitchen(t)
	msg := []byte{0x0a, 0x03, 'y', 'o', 'u'}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				d := r.Decode("/helloworld.Greeter/SayHello", true, msg)
				if d.Type != "" && string(d.JSON) != `{"name":"you"}` {
					t.Errorf("got %s %q", d.JSON, d.Err)
					return
				}
			}
		}()
	}
	if err := r.AddFiles(fds...); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if d := r.Decode("/helloworld.Greeter/SayHello", true, msg); string(d.JSON) != `{"name":"you"}` {
		t.Errorf("after AddFiles: %s %q", d.JSON, d.Err)
	}
}
