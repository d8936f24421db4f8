package issues

import (
	"strings"
	"testing"
)

// frameKeys renders frames innermost last as "module.function" with an
// asterisk for in-app frames, the shape the expectations below are written in.
func frameKeys(fs []Frame) string {
	var parts []string
	for _, f := range fs {
		k := f.Module + "|" + f.Function
		if f.InApp {
			k += "*"
		}
		parts = append(parts, k)
	}
	return strings.Join(parts, " ")
}

func TestParseStackTrace(t *testing.T) {
	cases := []struct {
		name, text string
		// want: per exception, "Type|Value|frames"
		want []string
	}{
		{"java simple", "java.lang.IllegalStateException: order 42 not payable\n\tat com.acme.orders.OrderService.pay(OrderService.java:88)\n\tat com.acme.orders.OrderController.create(OrderController.java:31)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n\tat java.base/java.lang.Thread.run(Thread.java:833)\n",
			[]string{"java.lang.IllegalStateException|order 42 not payable|java.lang.Thread|run org.springframework.web.servlet.FrameworkServlet|service com.acme.orders.OrderController|create* com.acme.orders.OrderService|pay*"}},
		{"java caused by", "com.acme.PaymentException: charge failed\n\tat com.acme.pay.Gateway.charge(Gateway.java:120)\n\tat com.acme.pay.Checkout.run(Checkout.java:40)\nCaused by: java.net.SocketTimeoutException: Read timed out\n\tat java.net.SocketInputStream.read(SocketInputStream.java:150)\n\tat com.acme.pay.HttpClient.post(HttpClient.java:77)\n\t... 2 common frames omitted\n",
			[]string{"java.net.SocketTimeoutException|Read timed out|com.acme.pay.HttpClient|post* java.net.SocketInputStream|read", "com.acme.PaymentException|charge failed|com.acme.pay.Checkout|run* com.acme.pay.Gateway|charge*"}},
		{"java no message native", "java.lang.NullPointerException\n\tat sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n\tat com.acme.Job.execute(Unknown Source)\n",
			[]string{"java.lang.NullPointerException||com.acme.Job|execute* sun.reflect.NativeMethodAccessorImpl|invoke0"}},
		{"python", "Something failed\nTraceback (most recent call last):\n  File \"/app/orders/views.py\", line 42, in create\n    order = service.process(data)\n  File \"/usr/lib/python3.11/site-packages/django/db/models/base.py\", line 812, in save\n    self.save_base()\nValueError: invalid literal for int() with base 10: 'abc'\n",
			[]string{"ValueError|invalid literal for int() with base 10: 'abc'|orders.views|create* models.base|save"}},
		{"python chained", "Traceback (most recent call last):\n  File \"/srv/app/db.py\", line 10, in connect\n    raise ConnectionError(\"down\")\nConnectionError: down\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"/srv/app/api.py\", line 5, in handler\n    db.connect()\napp.errors.ServiceUnavailable: database unavailable\n",
			[]string{"ConnectionError|down|app.db|connect*", "ServiceUnavailable|database unavailable|app.api|handler*"}},
		{"python keyerror", "Traceback (most recent call last):\n  File \"worker.py\", line 3, in <module>\n    main()\n  File \"worker.py\", line 2, in main\n    d['x']\nKeyError: 'x'",
			[]string{"KeyError|'x'|worker|<module>* worker|main*"}},
		{"go panic", "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\ngithub.com/acme/api/store.(*DB).Get(0xc000012345, 0x5)\n\t/app/store/db.go:12 +0x1d\nmain.main()\n\t/app/main.go:8 +0x25\nexit status 2\n",
			[]string{"runtime error|index out of range [5] with length 3|main|main* github.com/acme/api/store|(*DB).Get*"}},
		{"go panic stdlib", "2026/11/22 10:00:00 http: panic serving 10.0.0.1:5555: boom\npanic: boom [recovered]\n\ngoroutine 34 [running]:\nnet/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1898 +0xb0\npanic({0x6a1b20?, 0x7c2f10?})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\nexample.com/shop/handlers.Checkout(...)\n\t/src/handlers/checkout.go:55 +0x44\ncreated by net/http.(*Server).Serve in goroutine 1\n\t/usr/local/go/src/net/http/server.go:3285 +0x4b4\n",
			[]string{"panic|boom|example.com/shop/handlers|Checkout* |panic net/http|(*conn).serve.func1"}},
		{"node", "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser (/app/src/users.js:10:15)\n    at async Router.handle (/app/node_modules/express/lib/router/index.js:284:7)\n    at /app/src/index.js:5:3\n",
			[]string{"TypeError|Cannot read properties of undefined (reading 'id')|index|* express/lib/router/index|Router.handle users|getUser*"}},
		{"node internal", "Error: ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at Pool.connect (/srv/api/db/pool.mjs:40:11)\n",
			[]string{"Error|ECONNREFUSED 127.0.0.1:5432|pool|Pool.connect* net|TCPConnectWrap.afterConnect [as oncomplete]"}},
		{"none", "ERROR payment failed for user 42", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseStackTrace(c.text)
			var gotS []string
			for _, ex := range got {
				gotS = append(gotS, ex.Type+"|"+ex.Value+"|"+frameKeys(ex.Frames))
			}
			if strings.Join(gotS, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(gotS, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestNormalizeMessage(t *testing.T) {
	for in, want := range map[string]string{
		"user 42 not found in 'eu-1'":                            "user <n> not found in '<q>'",
		"request 3f2c8a9e-1b2c-4d5e-8f90-123456789abc timed out": "request <uuid> timed out",
		"bad pointer 0xc000123abc at deadline":                   "bad pointer <hex> at deadline",
		"took 3.25s, object deadbeef42":                          "took 3.25s, object <hex>",
		`key "abc" missing after 17 tries`:                       `key "<q>" missing after <n> tries`,
		"cafe failed at 10":                                      "cafe failed at <n>",
	} {
		if got := NormalizeMessage(in); got != want {
			t.Errorf("NormalizeMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFingerprintRules(t *testing.T) {
	java1 := "com.acme.PaymentException: order 1 failed\n\tat com.acme.pay.Gateway.charge(Gateway.java:120)\n\tat org.springframework.aop.Proxy.invoke(Proxy.java:5)\n"
	// The same code moved by ten lines and called through another
	// framework frame: the in-app frames are the same, so is the issue.
	java2 := "com.acme.PaymentException: order 2 failed\n\tat com.acme.pay.Gateway.charge(Gateway.java:130)\n\tat org.springframework.aop.Other.invoke(Other.java:9)\n"
	java3 := "com.acme.PaymentException: order 1 failed\n\tat com.acme.pay.Gateway.refund(Gateway.java:120)\n"
	fp := func(e ErrorEvent) string { return Fingerprint(&e) }
	a := fp(ErrorEvent{Exceptions: ParseStackTrace(java1)})
	b := fp(ErrorEvent{Exceptions: ParseStackTrace(java2)})
	c := fp(ErrorEvent{Exceptions: ParseStackTrace(java3)})
	if a != b || a == c || !strings.HasPrefix(a, "app:") {
		t.Errorf("in-app grouping: %s %s %s", a, b, c)
	}
	lib := fp(ErrorEvent{Exceptions: []Exception{{Type: "E", Frames: []Frame{{Module: "java.util", Function: "get"}}}}})
	if !strings.HasPrefix(lib, "stack:") {
		t.Errorf("no in-app frames: %s", lib)
	}
	m1 := fp(ErrorEvent{Message: "user 42 not found"})
	m2 := fp(ErrorEvent{Message: "user 7 not found"})
	m3 := fp(ErrorEvent{Message: "user 7 deleted"})
	if m1 != m2 || m1 == m3 || !strings.HasPrefix(m1, "msg:") {
		t.Errorf("message grouping: %s %s %s", m1, m2, m3)
	}
	s1 := fp(ErrorEvent{Message: "x", Fingerprint: []string{"payments", "declined"}})
	s2 := fp(ErrorEvent{Message: "y", Exceptions: ParseStackTrace(java1), Fingerprint: []string{"payments", "declined"}})
	s3 := fp(ErrorEvent{Message: "x", Fingerprint: []string{"{{ default }}", "eu"}})
	s4 := fp(ErrorEvent{Message: "x", Fingerprint: []string{"{{ default }}", "us"}})
	if s1 != s2 || s3 == s4 || s1 == s3 {
		t.Errorf("sdk fingerprint: %s %s %s %s", s1, s2, s3, s4)
	}
}
