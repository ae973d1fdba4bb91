# shellcheck shell=bash
# tests/k8s/fake_api.sh: the fake Kubernetes API server (fake_apiserver.py) for a test or a
# benchmark in the topology of scripts/topo.sh. Source it after topo_up, with these set:
#
#   P ST PY K8S_DIR   the topology's prefix and state directory, python3, tests/k8s
#   API_PORT          the API port on the gateway namespace's loopback (TLS, bearer token)
#   CTL TOKEN         the control endpoint's URL (http://127.0.0.1:6444) and the token
#
# and call, in order:
#
#   fake_api_cert                 a self-signed certificate for 127.0.0.1 in $ST/api.{crt,key}
#   fake_api_start [ARGS...]      start the server in the gateway namespace (FAKE_PID), with
#                                 --version 1.20 --bookmark-interval 2 and ARGS (e.g.
#                                 --max-watch-seconds 5, --state FILE, --preload FILE); waits
#                                 until its control endpoint answers (FAKE_API_WAIT_S, 10 by
#                                 default: a big --preload takes longer); 1 if it never does
#   fake_api_kubeconfig FILE      write a kubeconfig that trusts the certificate and sends the
#                                 token, with the default namespace `demo`
#   fake_api_strait_config [KC]   strait's config (stdout) for it: the topology's af_packet
#                                 ports ($EXT, $TOPO_INT_ADDR), one worker, Kubernetes through
#                                 KC ($ST/kubeconfig by default; "" = Kubernetes off, for the
#                                 offline --manifests mode), the CLI on $ST/cli.sock; append
#                                 the rest
#
# ctl ARGS... runs tests/k8s/fakectl.py against the control endpoint (apply, get, delete, ...).

FAKE_PID=

fake_api_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fake-kube-apiserver \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$ST/api.key" -out "$ST/api.crt" \
		2>"$ST/openssl.log"
}

ctl() { in_gw "$PY" "$K8S_DIR/fakectl.py" "$CTL" "$@"; }

_fake_api_up() { ctl state >/dev/null 2>&1; }

fake_api_start() {
	local i
	FAKE_PID=$(_topo_spawn fakeapi "${P}g" "$PY" "$K8S_DIR/fake_apiserver.py" \
		--listen "127.0.0.1:$API_PORT" --ctl "${CTL#http://}" --cert "$ST/api.crt" \
		--key "$ST/api.key" --token "$TOKEN" --version 1.20 --bookmark-interval 2 "$@")
	for ((i = 0; i < ${FAKE_API_WAIT_S:-10} * 10; i++)); do
		_fake_api_up && return 0
		sleep 0.1
	done
	return 1
}

fake_api_strait_config() {
	local kc=${1-$ST/kubeconfig} on=true
	[ -n "$kc" ] || on=false
	cat <<EOF
ports:
  ext: {device: "net_af_packet0", addresses: ["$EXT/24"]}
  int: {device: "net_af_packet1", addresses: ["$TOPO_INT_ADDR/24"]}
workers: 1
sessions: {max: 65536}
kubernetes: {enabled: $on, kubeconfig: "$kc", namespace: ""}
cli_socket: $ST/cli.sock
EOF
}

fake_api_kubeconfig() {
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$ST/api.crt")
users:
- name: strait
  user:
    token: $TOKEN
contexts:
- name: fake
  context: {cluster: fake, user: strait, namespace: demo}
EOF
}
