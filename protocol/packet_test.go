package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
)

// wireCases: packet value <-> exact JSON text as core 1.2.0 writes it.
var wireCases = []struct {
	name string
	p    Packet
	wire string
}{
	{"get short", &GetPacket{ID: NumID(1), Callee: Callee{Path: []string{"svc", "x"}}}, `[1,1,null,["svc","x"]]`},
	{"get long", &GetPacket{ID: NumID(1), Callee: Callee{ResourceID: "res-1", Path: []string{}, Long: true, InvocationService: "svc"}}, `[1,1,"res-1",[],"svc"]`},
	{"get long null service", &GetPacket{ID: StringID("a"), Callee: Callee{Path: []string{"p"}, Long: true}}, `[1,"a",null,["p"],null]`},
	{"set short", &SetPacket{ID: NumID(2), Callee: Callee{ResourceID: "res-2", Path: []string{"v"}}, Value: Raw(`1`)}, `[2,2,"res-2",["v"],1]`},
	{"set long", &SetPacket{ID: NumID(2), Callee: Callee{Path: []string{"s", "v"}, Long: true, InvocationService: "s"}, Value: Raw(`"\u0003U"`)}, `[2,2,null,["s","v"],"s","\u0003U"]`},
	{"apply short", &ApplyPacket{ID: NumID(3), Callee: Callee{Path: []string{"svc", "echo"}}, Args: Raw(`["hi"]`)}, `[3,3,null,["svc","echo"],["hi"]]`},
	{"apply long", &ApplyPacket{ID: NumID(3), Callee: Callee{ResourceID: "res-1", Path: []string{}, Long: true, InvocationService: "svc"}, Args: Raw(`[2]`)}, `[3,3,"res-1",[],"svc",[2]]`},
	{"apply null args", &ApplyPacket{ID: NumID(3), Callee: Callee{Path: []string{"f"}}, Args: Raw("null")}, `[3,3,null,["f"],null]`},
	{"res", &ResPacket{ID: NumID(4), Result: Raw(`"echo:hi"`)}, `[5,4,"echo:hi"]`},
	{"res null", &ResPacket{ID: NumID(4), Result: Raw("null")}, `[5,4,null]`},
	{"err", &ErrPacket{ID: NumID(5), Error: Raw(`{"code":"E_APP"}`)}, `[6,5,{"code":"E_APP"}]`},
	{"release", &ReleasePacket{ResourceID: "res-9"}, `[7,null,"res-9"]`},
	{"batch", &BatchPacket{ID: NumID(6), Calls: []Packet{&GetPacket{ID: NumID(7), Callee: Callee{Path: []string{"a"}}}, &BatchPacket{ID: NumID(8), Calls: []Packet{}}}}, `[8,6,[[1,7,null,["a"]],[8,8,[]]]]`},
	{"batch res", &BatchResPacket{ID: NumID(6), Results: Raw(`[1,2]`)}, `[9,6,[1,2]]`},
	{"handshake req", &HandshakeReqPacket{ID: NumID(1), Metadata: Raw(`{"context":"node-ipc-client","appId":"a","pid":6733}`), Assigns: Raw("null"), Capabilities: []string{"provider-catalog-v1"}}, `[10,1,{"context":"node-ipc-client","appId":"a","pid":6733},null,["provider-catalog-v1"]]`},
	{"handshake req 0.x", &HandshakeReqPacket{ID: NumID(1), Metadata: Raw(`{}`), Assigns: Raw("null"), Legacy: true}, `[10,1,{},null]`},
	{"handshake ack", &HandshakeAckPacket{ID: NumID(1), Metadata: Raw(`{"context":"node-ipc-daemon"}`), Capabilities: []string{"provider-catalog-v1"}, Providers: []string{"svc", "denied"}}, `[11,1,{"context":"node-ipc-daemon"},["provider-catalog-v1"],["svc","denied"]]`},
	{"handshake ack 0.x", &HandshakeAckPacket{ID: NumID(1), Metadata: Raw(`{}`), Legacy: true}, `[11,1,{}]`},
	{"handshake reject", &HandshakeRejectPacket{ID: NumID(1), Error: Raw(`{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}`)}, `[12,1,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}]`},
	{"identity update", &IdentityUpdatePacket{Updates: Raw(`{"groups":["g"]}`)}, `[13,null,{"groups":["g"]}]`},
	{"handshake ready", &HandshakeReadyPacket{ID: NumID(1), Capabilities: []string{"provider-catalog-v1"}, Providers: []string{}}, `[14,1,["provider-catalog-v1"],[]]`},
	{"handshake ready 0.x", &HandshakeReadyPacket{ID: NumID(1), Legacy: true}, `[14,1]`},
	{"provider available", &ProviderAvailablePacket{Providers: []string{"late-service"}}, `[15,null,["late-service"]]`},
	{"chunk start", &ChunkStartPacket{ID: NumID(9), TotalChunks: num(3), OriginalMessageID: NumID(4), OriginalMessageType: num(5)}, `[16,9,3,4,5]`},
	{"chunk start nulls", &ChunkStartPacket{ID: NumID(9)}, `[16,9,null,null,null]`},
	{"chunk data", &ChunkDataPacket{ID: NumID(9), ChunkIndex: num(0), ChunkData: Raw(`"abc"`)}, `[17,9,0,"abc"]`},
	{"fractional and big ids", &ResPacket{ID: NumID(1e21), Result: Raw(`0.1`)}, `[5,1e+21,0.1]`},
}

func TestPacketWire(t *testing.T) {
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MarshalPacket(c.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.wire {
				t.Fatalf("encode:\n got %s\nwant %s", got, c.wire)
			}
			back, err := DecodePacket([]byte(c.wire), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, c.p) {
				t.Fatalf("decode:\n got %#v\nwant %#v", back, c.p)
			}
		})
	}
}

func TestPacketDecodeLenient(t *testing.T) {
	// Missing trailing elements are absent fields; extra ones are ignored.
	cases := map[string]string{
		`[5,1]`:                              `[5,1,null]`,
		`[5]`:                                `[5,null,null]`,
		`[5,1,2,3,4]`:                        `[5,1,2]`,
		` [ 3 , 1 , null , ["a"] , [ ] ] `:   `[3,1,null,["a"],[ ]]`,
		`[1.0,1e0,null,["a"]]`:               `[1,1,null,["a"]]`,
		`[3,1,null,["a"],"svc",[1],"extra"]`: `[3,1,null,["a"],"svc",[1]]`,
		`[10,1,{}]`:                          `[10,1,{},null,null]`,
	}
	for in, want := range cases {
		p, err := DecodePacket([]byte(in), nil)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		got, _ := MarshalPacket(p)
		if string(got) != want {
			t.Errorf("%s: re-encoded %s, want %s", in, got, want)
		}
	}
}

func TestPacketDecodeErrors(t *testing.T) {
	cases := map[string]string{
		``:                        "invalid JSON",
		`{"type":1}`:              "not a JSON array",
		`[]`:                      "empty array",
		`[4,1]`:                   "unknown message type 4",
		`[99,1]`:                  "unknown message type 99",
		`["1",1]`:                 "message type is not a number",
		`[1.5,1]`:                 "unknown message type",
		`[5,{},1]`:                "id is not a number, string or null",
		`[1,1,5,["a"]]`:           "resourceId is not a string or null",
		`[1,1,null,"a"]`:          "path is not an array",
		`[1,1,null,[1]]`:          "path element 0 is not a string",
		`[1,1,null,["a"],7]`:      "invocationServiceName is not a string or null",
		`[8,1,{}]`:                "calls is not an array",
		`[8,1,[1]]`:               "nested call is not an array",
		`[8,1,[[4]]]`:             "unknown message type 4",
		`[11,1,{},"x"]`:           "capabilities is not an array",
		`[15,null,[1]]`:           "providers element 0 is not a string",
		`[16,1,"x"]`:              "totalChunks is not a number",
		`[5,1,"a"] x`:             "unexpected data after the packet",
		"[5,1,\"\x01\"]":          "control character in string",
		`[5,1,"\u12"]`:            "invalid \\u escape",
		`[5,1,01]`:                "expected ',' or ']'",
		`[5,1,tru]`:               "unexpected character",
		`[5,1,[1,]]`:              "unexpected character",
		`[5,1,{"a" 1}]`:           "expected ':'",
		`[5,1,"abc`:               "unterminated string",
		strings.Repeat("[", 2000): "unexpected end of input",
		`[5,1,` + strings.Repeat(`[`, 1500) + `1` + strings.Repeat(`]`, 1499) + `]`:       "expected ',' or ']'",
		`[5,1,` + strings.Repeat(`{"a":`, 1500) + `1` + strings.Repeat(`}`, 1499) + `,}]`: "expected a string key",
		`[5,1,` + strings.Repeat(`{"a":`, 1500) + `1` + strings.Repeat(`}`, 1500) + `]x`:  "unexpected data after the packet",
		`[5,1,` + strings.Repeat(`{"a":[`, 800) + `tru` + strings.Repeat(`]}`, 800) + `]`: "unexpected character",
		`[5,1,` + strings.Repeat(`{"a":[`, 800) + `"x` + strings.Repeat(`]}`, 800) + `]`:  "unterminated string",
	}
	for in, want := range cases {
		_, err := DecodePacket([]byte(in), nil)
		if err == nil {
			t.Errorf("%.40s: no error", in)
			continue
		}
		if !errors.Is(err, errcode.IPCProtocolError) {
			t.Errorf("%.40s: %v is not E_IPC_PROTOCOL_ERROR", in, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%.40s: %q does not say %q", in, err, want)
		}
	}
}

// TestDeepPayloads: a packet whose payload is nested deeper than the
// limit decodes (its routing is known), and decoding the payload fails
// with the nesting error, so that only that call fails.
func TestDeepPayloads(t *testing.T) {
	for _, depth := range []int{1001, 200_000} {
		arr := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		obj := strings.Repeat(`{"k":[`, depth/2+1) + `"v"` + strings.Repeat(`]}`, depth/2+1)
		for _, in := range []string{`[3,7,null,["svc","echo"],[` + arr + `]]`, `[5,7,` + obj + `]`, `[2,7,null,["svc","x"],` + arr + `]`} {
			p, err := DecodePacket([]byte(in), nil)
			if err != nil {
				t.Fatalf("depth %d, %.20s: %v", depth, in, err)
			}
			if p.MessageID() != NumID(7) {
				t.Fatalf("depth %d, %.20s: id %v", depth, in, p.MessageID())
			}
			if _, err := DecodeValue(Payload(p)); err == nil || !strings.Contains(err.Error(), "nesting deeper than") {
				t.Errorf("depth %d, %.20s: decoding the payload: %v", depth, in, err)
			}
		}
	}
}

func num(f float64) *float64 { return &f }

func TestTypeNames(t *testing.T) {
	if TypeApply.String() != "APPLY" || Type(4).String() != "TYPE(4)" || Type(4).Known() {
		t.Fatal("type names")
	}
}
