// Command gateway runs a grpc-go server for echo.EchoService (proto/echo.proto)
// on -grpc-addr and, in the same process, a grpc-gateway v2 REST/JSON proxy
// for it on -http-addr (plain HTTP/1.1). The gateway reaches the gRPC server
// over TCP (h2c, grpc.NewClient with insecure credentials), so a capture of
// both ports shows each REST call next to the gRPC call it turned into.
// Used for the capture grpcgateway.
//
// The HTTP rules come from proto/echo_gateway.yaml:
//
//	POST /v1/example/echo  body "*"     Echo
//	GET  /v1/users/{id}                 GetUser (NOT_FOUND -> HTTP 404)
//	POST /v1/users         body "user"  CreateUser
//	GET  /v1/users?role=R               ListUsers (server streaming)
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	echopb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/echo"
)

type service struct {
	echopb.UnimplementedEchoServiceServer
	mu     sync.Mutex
	users  map[int64]*echopb.User
	nextID int64
}

func (s *service) Echo(ctx context.Context, in *echopb.EchoMessage) (*echopb.EchoMessage, error) {
	return in, nil
}

func (s *service) GetUser(ctx context.Context, in *echopb.GetUserRequest) (*echopb.User, error) {
	// becomes the response header Grpc-Metadata-X-Request-Id at the gateway
	grpc.SetHeader(ctx, metadata.Pairs("x-request-id", "req-0001"))
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[in.GetId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "user %d not found", in.GetId())
	}
	return u, nil
}

func (s *service) CreateUser(ctx context.Context, in *echopb.CreateUserRequest) (*echopb.User, error) {
	if in.GetUser().GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "user.name is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &echopb.User{Id: s.nextID, Name: in.GetUser().GetName(), Tags: in.GetUser().GetTags(), Role: in.GetUser().GetRole()}
	if !in.GetValidateOnly() {
		s.users[u.Id] = u
		s.nextID++
	}
	return u, nil
}

func (s *service) ListUsers(in *echopb.ListUsersRequest, stream echopb.EchoService_ListUsersServer) error {
	s.mu.Lock()
	var list []*echopb.User
	for _, u := range s.users {
		if in.GetRole() == echopb.Role_ROLE_UNSPECIFIED || u.GetRole() == in.GetRole() {
			list = append(list, u)
		}
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].GetId() < list[j].GetId() })
	for _, u := range list {
		if err := stream.Send(u); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func main() {
	grpcAddr := flag.String("grpc-addr", "127.0.0.1:50161", "gRPC listen address")
	httpAddr := flag.String("http-addr", "127.0.0.1:50160", "REST gateway listen address")
	flag.Parse()

	glis, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		log.Fatalf("listen %s: %v", *grpcAddr, err)
	}
	hlis, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatalf("listen %s: %v", *httpAddr, err)
	}
	gs := grpc.NewServer()
	echopb.RegisterEchoServiceServer(gs, &service{nextID: 3, users: map[int64]*echopb.User{
		1: {Id: 1, Name: "alice", Tags: []string{"admin", "ops"}, Role: echopb.Role_ROLE_ADMIN},
		2: {Id: 2, Name: "bob", Tags: []string{"dev"}, Role: echopb.Role_ROLE_MEMBER},
	}})
	go func() {
		if err := gs.Serve(glis); err != nil {
			log.Fatal(err)
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mux := runtime.NewServeMux()
	if err := echopb.RegisterEchoServiceHandlerFromEndpoint(ctx, mux, glis.Addr().String(),
		[]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}); err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s %s", r.Proto, r.Method, r.URL)
		mux.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		hs.Close()
		gs.Stop()
	}()
	log.Printf("gRPC on %s, REST gateway on %s", glis.Addr(), hlis.Addr())
	if err := hs.Serve(hlis); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
