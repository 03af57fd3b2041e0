{% comment %}Mautic's script embed (/m/<ws>/form/generate.js): writes the form after its script tag, fills the tracker's
   device id, sets return to the page, and sends the answers with ?ajax=1 (errors shown in place). No eval.{% endcomment %}(function(d,w){'use strict';
var s=d.currentScript;var box=d.createElement('div');box.className='tds-form-embed';box.innerHTML={{ html_json|safe }};
s.parentNode.insertBefore(box,s.nextSibling);
var f=box.querySelector('form');if(!f)return;
function visitor(){var m=d.cookie.match(/(?:^|;\s*)_tdv=([^;]*)/),v=m?m[1]:null;
if(!v){try{v=w.localStorage.getItem('_tdv');}catch(e){v=null;}}
var slot=f.querySelector('[data-tidings-visitor]');if(slot&&v&&/^[A-Za-z0-9._-]{1,64}$/.test(v))slot.value=v;}
visitor();
var ret=f.querySelector('input[name="mauticform[return]"]');if(ret&&!ret.value)ret.value=w.location.href;
var hp=f.querySelector('.tds-hp');if(hp){hp.style.position='absolute';hp.style.left='-10000px';}
f.addEventListener('submit',function(ev){visitor();if(!w.fetch||!w.FormData)return;ev.preventDefault();
var msg=f.querySelector('.mauticform-message'),err=f.querySelector('.mauticform-error');
var url=f.action+(f.action.indexOf('?')<0?'?':'&')+'ajax=1';
w.fetch(url,{method:'POST',body:new FormData(f),mode:'cors',credentials:'omit'}).then(function(r){return r.json();})
.then(function(a){var i,els=f.querySelectorAll('.mauticform-errormsg');for(i=0;i<els.length;i++){els[i].textContent='';els[i].hidden=true;}
var bad=f.querySelectorAll('[aria-invalid]');for(i=0;i<bad.length;i++)bad[i].removeAttribute('aria-invalid');
if(a.success){if(a.redirect){w.location.href=a.redirect;return;}err.textContent='';msg.textContent=a.successMessage||'';
var rows=f.querySelectorAll('.mauticform-row');for(i=0;i<rows.length;i++)rows[i].hidden=true;return;}
err.textContent=a.errorMessage||'';var k,e;for(k in (a.validationErrors||{})){e=d.getElementById('mauticform_input_'+k+'_error');
if(e){e.textContent=a.validationErrors[k];e.hidden=false;}var input=d.getElementById('mauticform_input_'+k)||d.getElementById('mauticform_input_'+k+'_1');
if(input)input.setAttribute('aria-invalid','true');}})
.catch(function(){err.textContent='The form could not be sent; try again.';});});
})(document,window);
